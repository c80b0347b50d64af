"""Helpers for tests that run the real ``kmm`` console script as a subprocess (signals, exit codes,
what reaches the terminal), isolated from the user's settings, state and odds keys."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

KMM = Path(sys.executable).with_name("kmm")
ONE_LINE = re.compile(r"kmm( [a-z ]+)?: .+ — .+\n")


def clean_env(home: Path) -> dict[str, str]:
    """The environment of a user with no settings file, no odds keys and state under ``home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KMM_")}
    env.update(
        XDG_CONFIG_HOME=str(home / "config"),
        KMM_STATE_DIR=str(home / "state"),
        PYTHONUNBUFFERED="1",
    )
    return env


def closed_port() -> int:
    """A loopback port nobody listens on (bound, read, released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Finished:
    code: int
    out: str
    err: str


async def run_kmm(home: Path, *argv: str, stdin: bytes = b"", within: float = 60) -> Finished:
    process = await asyncio.create_subprocess_exec(
        str(KMM), *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env=clean_env(home),
    )
    out, err = await asyncio.wait_for(process.communicate(stdin), within)
    assert process.returncode is not None
    return Finished(process.returncode, out.decode(), err.decode())


class Running:
    """A ``kmm`` subprocess whose stdout is read line by line while it runs."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []

    async def wait_for_line(self, pattern: str, within: float = 60) -> str:
        assert self.process.stdout is not None
        for line in self.lines:
            if re.search(pattern, line):
                return line
        async with asyncio.timeout(within):
            while True:
                raw = await self.process.stdout.readline()
                if not raw:
                    err = await self.process.stderr.read() if self.process.stderr else b""
                    raise AssertionError(f"kmm ended before {pattern!r}: {self.lines} {err.decode()}")
                line = raw.decode()
                self.lines.append(line)
                if re.search(pattern, line):
                    return line

    async def interrupt(self, sig: signal.Signals = signal.SIGINT, within: float = 60) -> Finished:
        self.process.send_signal(sig)
        out, err = await asyncio.wait_for(self.process.communicate(), within)
        assert self.process.returncode is not None
        return Finished(self.process.returncode, "".join(self.lines) + out.decode(), err.decode())


@contextlib.asynccontextmanager
async def started(home: Path, *argv: str) -> AsyncIterator[Running]:
    process = await asyncio.create_subprocess_exec(
        str(KMM), *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env=clean_env(home),
    )
    try:
        yield Running(process)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


class SilentServer:
    """A loopback TCP server that accepts connections and never answers: a command talking to it
    blocks, so a test knows the command is mid-request when it sends Ctrl-C."""

    def __init__(self) -> None:
        self.connected = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        self.connected.set()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def __aenter__(self) -> SilentServer:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        for writer in self._writers:
            writer.close()
        assert self._server is not None
        self._server.close()


def modes(root: Path) -> Iterator[tuple[Path, int]]:
    """Every directory and file under ``root`` (itself included) with its permission bits."""
    yield root, root.stat().st_mode & 0o777
    for path in sorted(root.rglob("*")):
        yield path, path.stat().st_mode & 0o777
