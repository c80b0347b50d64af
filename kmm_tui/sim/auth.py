"""Request signature verification (§2 of the API notes), independent of the client's signer.

Signed string = ``timestamp + METHOD + path`` (path with ``/trade-api/v2`` or ``/trade-api/ws/v2``,
no query). RSA keys use PSS/SHA-256/MGF1(SHA-256) with salt length 32; Ed25519 keys sign the same
string. The timestamp must be within ±5 s of the wall clock. Failures carry Kalshi's exact bodies.
"""

from __future__ import annotations

import base64
import binascii
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from kmm_tui.sim.errors import SimError

MAX_SKEW_MS = 5_000
KEY_HEADER = "kalshi-access-key"
TS_HEADER = "kalshi-access-timestamp"
SIG_HEADER = "kalshi-access-signature"

PublicKey = rsa.RSAPublicKey | ed25519.Ed25519PublicKey


def missing_signature() -> SimError:
    return SimError(401, "signature_is_missing_from_headers", "signature is missing from headers")


def timestamp_expired() -> SimError:
    return SimError(401, "header_timestamp_expired", "header timestamp expired")


def unknown_key() -> SimError:
    return SimError(401, "authentication_error", "authentication_error", "NOT_FOUND")


def bad_signature() -> SimError:
    return SimError(401, "authentication_error", "authentication_error", "INCORRECT_API_KEY_SIGNATURE")


@dataclass(frozen=True, slots=True)
class SimAccount:
    """Credentials of one simulated trader: what a client needs to sign requests."""

    key_id: str
    private_key_pem: bytes
    user_id: str
    key_path: Path | None = None


KEY_TYPES = ("rsa", "ed25519")  # Kalshi accepts both; Ed25519 signs about ten times cheaper


def generate_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def generate_key(key_type: str) -> rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey:
    """A fresh private key of ``key_type`` (``rsa`` or ``ed25519``); ValueError names the choices."""
    if key_type == "rsa":
        return generate_rsa_key()
    if key_type == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(f"unknown key type {key_type!r}; use one of {', '.join(KEY_TYPES)}")


def private_pem(key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey) -> bytes:
    """PKCS#8 PEM, unencrypted (what ``load_pem_private_key(data, password=None)`` reads)."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def write_key_file(directory: Path, key_id: str, pem: bytes) -> Path:
    """Write ``<key_id>.pem`` readable only by the owner (0600) and return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{key_id}.pem"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    path.chmod(0o600)
    return path


class KeyRegistry:
    """API key id → (public key, account id)."""

    def __init__(self) -> None:
        self._keys: dict[str, tuple[PublicKey, str]] = {}

    def register(self, key_id: str, public_key: PublicKey, account_id: str) -> None:
        self._keys[key_id] = (public_key, account_id)

    def new_key(self, account_id: str, key_type: str = "rsa") -> tuple[str, bytes]:
        """Create a key pair (RSA or Ed25519) for ``account_id``; returns (key id, private PEM)."""
        key = generate_key(key_type)
        key_id = str(uuid.uuid4())
        self.register(key_id, key.public_key(), account_id)
        return key_id, private_pem(key)

    def verify(self, headers: dict[str, str], method: str, path: str, wall_ms: int) -> str:
        """Check the three headers; return the account id or raise the matching 401 ``SimError``."""
        key_id = headers.get(KEY_HEADER)
        ts = headers.get(TS_HEADER)
        sig = headers.get(SIG_HEADER)
        if not key_id or not ts or not sig:
            raise missing_signature()
        entry = self._keys.get(key_id)
        if entry is None:
            raise unknown_key()
        if not ts.isdigit() or abs(int(ts) - wall_ms) > MAX_SKEW_MS:
            raise timestamp_expired()
        try:
            signature = base64.b64decode(sig, validate=True)
        except (binascii.Error, ValueError):
            raise bad_signature() from None
        public_key, account_id = entry
        message = f"{ts}{method.upper()}{path}".encode()
        try:
            if isinstance(public_key, rsa.RSAPublicKey):
                public_key.verify(
                    signature,
                    message,
                    padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH),
                    hashes.SHA256(),
                )
            else:
                public_key.verify(signature, message)
        except InvalidSignature:
            raise bad_signature() from None
        return account_id
