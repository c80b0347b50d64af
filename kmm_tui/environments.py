"""Which exchange to talk to, with which key, and the gates in front of real money.

Three environments: ``sim`` (the embedded simulator; the default, needs no key), ``demo`` (Kalshi's
demo exchange; needs a key id and key file) and ``prod`` (real money; needs the key, the ``--live``
flag *and* the user typing LIVE at :func:`confirm_live`). Resolution happens once, in the CLI, so a
misconfigured key or a demo URL under ``--env prod`` stops kmm before any request is made.

The key file is checked here with ``kmm_tui.kalshi.auth`` (the one key loader): it must load, and a
group/world-readable file is a warning. Signing belongs to that module too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from kmm_tui.config import EnvName, Settings, UserError
from kmm_tui.kalshi.auth import key_file_permission_warning, load_private_key
from kmm_tui.kalshi.errors import KeyFileError

PROD_REST_URL = "https://external-api.kalshi.com/trade-api/v2"
PROD_WS_URL = "wss://external-api-ws.kalshi.com/trade-api/ws/v2"
DEMO_REST_URL = "https://external-api.demo.kalshi.co/trade-api/v2"
DEMO_WS_URL = "wss://external-api-ws.demo.kalshi.co/trade-api/ws/v2"
REST_PREFIX = "/trade-api/v2"
WS_PREFIX = "/trade-api/ws/v2"

_PROD_HOSTS = ("external-api.kalshi.com", "external-api-ws.kalshi.com", "api.elections.kalshi.com")
_LOOPBACK = ("127.0.0.1", "localhost", "::1")

LIVE_WORD = "LIVE"
LIVE_PROMPT = (
    "kmm is about to use the PRODUCTION exchange: orders trade real money.\n"
    f"Type {LIVE_WORD} to continue, anything else to stop: "
)


class EnvironmentSetupError(UserError):
    """The chosen environment cannot be used as configured; the message says what to change."""


@dataclass(frozen=True, slots=True)
class Environment:
    """A resolved environment. For ``sim`` the URLs are None until a simulator is running.

    ``warnings`` are problems worth telling the user that do not stop kmm (a key file others can
    read); the CLI prints them to stderr.
    """

    name: EnvName
    rest_url: str | None
    ws_url: str | None
    key_id: str | None
    key_path: Path | None
    is_live: bool
    warnings: tuple[str, ...] = ()

    @property
    def has_keys(self) -> bool:
        return self.key_id is not None and self.key_path is not None


def sim_urls(sim_url: str) -> tuple[str, str]:
    """REST and WebSocket URLs of a simulator from its address (``http://127.0.0.1:8765`` or the REST URL).

    The simulator serves the real paths, so ``/trade-api/v2`` and ``/trade-api/ws/v2`` are appended
    to the origin; anything else in the path is an error.
    """
    text = sim_url.strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EnvironmentSetupError(
            f"--sim-url {sim_url!r} is not a URL — use the address `kmm sim` printed, e.g. http://127.0.0.1:8765"
        )
    if parts.path not in ("", REST_PREFIX):
        raise EnvironmentSetupError(
            f"--sim-url {sim_url!r} has path {parts.path!r} — give the simulator's address "
            f"(http://host:port) or its REST URL ending in {REST_PREFIX}"
        )
    origin = f"{parts.scheme}://{parts.netloc}"
    ws_scheme = "wss" if parts.scheme == "https" else "ws"
    return origin + REST_PREFIX, f"{ws_scheme}://{parts.netloc}{WS_PREFIX}"


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _check_url_matches(name: EnvName, url: str, setting: str) -> None:
    """Refuse a URL override that points at the other exchange (demo keys on prod, or the reverse)."""
    host = _host(url)
    is_demo_host = host.endswith(".kalshi.co")
    is_prod_host = host in _PROD_HOSTS or host.endswith(".kalshi.com")
    if name is EnvName.PROD and (is_demo_host or host in _LOOPBACK):
        raise EnvironmentSetupError(
            f"[kalshi] {setting} = {url} is not the production exchange but the environment is prod — "
            "remove the override or choose --env demo / --env sim"
        )
    if name is EnvName.DEMO and is_prod_host:
        raise EnvironmentSetupError(
            f"[kalshi] {setting} = {url} is the PRODUCTION exchange but the environment is demo — "
            "remove the override (demo and prod keys are separate)"
        )


def check_key_file(path: Path) -> str | None:
    """Load the key once so a bad file stops kmm now (missing, unreadable, not a PEM private key,
    encrypted), with the loader's own fix; return the group/world-readable warning, if any."""
    try:
        load_private_key(path)
    except KeyFileError as exc:
        raise EnvironmentSetupError(exc.user_message) from None
    return key_file_permission_warning(path)


def resolve_environment(
    settings: Settings,
    env: str | EnvName | None = None,
    *,
    live: bool = False,
    sim_url: str | None = None,
    require_keys: bool = True,
) -> Environment:
    """Settings + CLI flags -> Environment, or :class:`EnvironmentSetupError` naming the fix.

    ``env`` (``--env``) wins over ``environment`` in settings. ``require_keys=False`` is for commands
    that read only public market data (``scan``, ``odds``): they need the right host, not an account,
    and may use prod data without ``--live`` because they cannot trade.
    """
    try:
        name = EnvName(env) if env is not None else settings.environment
    except ValueError:
        raise EnvironmentSetupError(f"unknown environment {env!r} — use sim, demo or prod") from None
    kalshi = settings.kalshi
    if sim_url and name is not EnvName.SIM:
        raise EnvironmentSetupError(
            f"--sim-url only applies to the sim environment, but the environment is {name} — add --env sim"
        )
    if name is EnvName.SIM:
        if sim_url:
            rest, ws = sim_urls(sim_url)
        else:
            rest, ws = None, None
        return Environment(name, rest, ws, None, None, is_live=False)
    if name is EnvName.PROD and require_keys and not live:
        raise EnvironmentSetupError(
            "the prod environment trades real money — add --live (you will then be asked to type LIVE), "
            "or use --env demo / --env sim"
        )
    if name is EnvName.PROD:
        rest, ws = kalshi.rest_url or PROD_REST_URL, kalshi.ws_url or PROD_WS_URL
    else:
        rest, ws = kalshi.rest_url or DEMO_REST_URL, kalshi.ws_url or DEMO_WS_URL
    if kalshi.rest_url:
        _check_url_matches(name, kalshi.rest_url, "rest_url")
    if kalshi.ws_url:
        _check_url_matches(name, kalshi.ws_url, "ws_url")
    where = f"in {settings.source}" if settings.source else "in settings.toml (see docs/configuration.md)"
    warnings: list[str] = []
    if require_keys:
        if kalshi.key_id is None:
            raise EnvironmentSetupError(
                f"{name} needs a Kalshi API key — set key_id under [kalshi] {where} "
                f"(create a key on the {name} site's API keys page), or use --env sim"
            )
        if kalshi.private_key_path is None:
            raise EnvironmentSetupError(
                f"{name} needs the API key's private key file — set private_key_path under [kalshi] {where}"
            )
        warning = check_key_file(kalshi.private_key_path)
        if warning:
            warnings.append(warning)
    return Environment(
        name,
        rest,
        ws,
        kalshi.key_id,
        kalshi.private_key_path,
        is_live=name is EnvName.PROD,
        warnings=tuple(warnings),
    )


def confirm_live(read_line: Callable[[str], str]) -> bool:
    """Ask the user to type LIVE (exactly, upper case) before trading real money; anything else is no.

    ``read_line`` is ``input`` in the CLI; end of input or Ctrl-C count as no, so a script piping
    nothing into kmm can never go live by accident.
    """
    try:
        answer = read_line(LIVE_PROMPT)
    except (EOFError, KeyboardInterrupt):
        return False
    return answer.strip() == LIVE_WORD
