"""Loading the API private key and signing requests the way Kalshi verifies them.

Kalshi authenticates every private REST call and every WebSocket upgrade with three headers:
``KALSHI-ACCESS-KEY`` (key id), ``KALSHI-ACCESS-TIMESTAMP`` (Unix ms) and ``KALSHI-ACCESS-SIGNATURE``
(base64 signature of ``timestamp + METHOD + path``; the path includes ``/trade-api/v2`` and excludes the
query). RSA keys sign with RSA-PSS/SHA-256, MGF1(SHA-256), salt = digest length; Ed25519 keys sign the
same string directly. The key type is whatever the PEM holds.

Key material never appears in ``repr``, ``str``, exceptions or logs.
"""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from kmm_tui.kalshi.errors import KeyFileError

PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey

HEADER_KEY = "KALSHI-ACCESS-KEY"
HEADER_TIMESTAMP = "KALSHI-ACCESS-TIMESTAMP"
HEADER_SIGNATURE = "KALSHI-ACCESS-SIGNATURE"

_MAX_KEY_FILE_BYTES = 1_000_000
_FIX = "download the key again from Kalshi's API keys page and save it as an unencrypted .pem file"


def _key_error(path: Path, problem: str, fix: str = _FIX) -> KeyFileError:
    message = f"key file {path} {problem}"
    return KeyFileError(message, code="key_file", user_message=f"{message}; {fix}")


def load_private_key(path: Path) -> PrivateKey:
    """Read a PEM private key (PKCS#1 or PKCS#8; RSA or Ed25519) or raise :class:`KeyFileError`.

    Each failure names its fix: missing file, a directory, no permission, not a PEM private key,
    encrypted (Kalshi keys are plain; we never prompt for a password), or an unsupported key type.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise _key_error(path, "does not exist", f"{_FIX}, or fix private_key_path in settings")
    if not path.is_file():
        raise _key_error(path, "is not a file", "point private_key_path at the .pem file itself")
    try:
        size = path.stat().st_size
        if size > _MAX_KEY_FILE_BYTES:
            raise _key_error(path, f"is {size} bytes, far too big for a private key", "check the path")
        data = path.read_bytes()
    except PermissionError:
        raise _key_error(
            path, "is not readable by this user", f"run: chmod 600 {path} (as its owner)"
        ) from None
    except OSError as exc:
        raise _key_error(path, f"cannot be read ({exc.strerror})", "check the file and the disk") from None
    if b"-----BEGIN" not in data:
        raise _key_error(path, "is not a PEM file (no -----BEGIN line)")
    if b"ENCRYPTED" in data:
        raise _key_error(path, "is encrypted with a password", "save an unencrypted copy (chmod 600 it)")
    if b"PRIVATE KEY-----" not in data:
        raise _key_error(path, "does not contain a private key (is it the public key or a certificate?)")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        # cryptography raises TypeError when the key needs a password it was not given.
        raise _key_error(
            path, "is encrypted with a password", "save an unencrypted copy (chmod 600 it)"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        # Deliberately not chaining or quoting the parser's message: it may echo key bytes.
        raise _key_error(path, "is not a valid PEM private key") from None
    if not isinstance(key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        raise _key_error(
            path,
            f"holds a {type(key).__name__.lstrip('_')} key; Kalshi keys are RSA or Ed25519",
        )
    return key


def key_file_permission_warning(path: Path) -> str | None:
    """A warning when other users may read the key file (group/world bits set), else None."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return f"key file {path} is readable by other users (mode {mode:o}); run: chmod 600 {path}"
    return None


def signing_path(path_or_url: str) -> str:
    """The part of a request target Kalshi signs: the path only, no scheme/host, no ``?query``."""
    if "://" in path_or_url:
        path = urlsplit(path_or_url).path
    else:
        path = path_or_url.split("?", 1)[0].split("#", 1)[0]
    return path or "/"


class Signer:
    """Signs requests for one API key. Holds the key in memory only; never prints it."""

    __slots__ = ("_key", "key_id")

    def __init__(self, key_id: str, private_key: PrivateKey) -> None:
        if not key_id or not key_id.strip():
            raise KeyFileError(
                "API key id is empty",
                code="key_id",
                user_message="the Kalshi API key id is empty; set key_id under [kalshi] in settings",
            )
        if not isinstance(private_key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
            raise TypeError("private_key must be an RSA or Ed25519 private key")
        self.key_id = key_id.strip()
        self._key = private_key

    @classmethod
    def from_file(cls, key_id: str, path: Path) -> Signer:
        return cls(key_id, load_private_key(path))

    @classmethod
    def from_pem(cls, key_id: str, pem: bytes) -> Signer:
        """A key held in memory (the simulator's demo account): unencrypted PEM, RSA or Ed25519."""
        return cls(key_id, serialization.load_pem_private_key(pem, password=None))  # type: ignore[arg-type]

    @property
    def algorithm(self) -> str:
        return "RSA-PSS" if isinstance(self._key, rsa.RSAPrivateKey) else "Ed25519"

    def sign(self, message: bytes) -> bytes:
        if isinstance(self._key, rsa.RSAPrivateKey):
            return self._key.sign(
                message,
                padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH),
                hashes.SHA256(),
            )
        return self._key.sign(message)

    def headers(self, method: str, path: str, now_ms: int) -> dict[str, str]:
        """The three auth headers for ``METHOD path`` at ``now_ms``. Call again for every retry."""
        timestamp = str(int(now_ms))
        message = f"{timestamp}{method.upper()}{signing_path(path)}".encode()
        signature = base64.b64encode(self.sign(message)).decode("ascii")
        return {HEADER_KEY: self.key_id, HEADER_TIMESTAMP: timestamp, HEADER_SIGNATURE: signature}

    def __repr__(self) -> str:
        return f"Signer(key_id={self.key_id!r}, algorithm={self.algorithm})"

    __str__ = __repr__

    def __reduce__(self) -> object:  # never pickle key material into caches or logs
        raise TypeError("Signer holds a private key and cannot be pickled")


__all__ = [
    "HEADER_KEY",
    "HEADER_SIGNATURE",
    "HEADER_TIMESTAMP",
    "PrivateKey",
    "Signer",
    "key_file_permission_warning",
    "load_private_key",
    "signing_path",
]
