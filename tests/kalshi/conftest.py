"""Keys for the Kalshi client tests: generated once per session (RSA generation is slow-ish)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from kmm_tui.kalshi.auth import Signer

KEY_ID = "5f0c3a1e-8d2b-4c6f-9e7a-1b3d5c7e9f20"


@pytest.fixture(scope="session")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def ed_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


@pytest.fixture(scope="session")
def signer(rsa_key: rsa.RSAPrivateKey) -> Signer:
    return Signer(KEY_ID, rsa_key)


def write_pem(path: Path, key: object, fmt: serialization.PrivateFormat, mode: int = 0o600) -> Path:
    pem = key.private_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.PEM, fmt, serialization.NoEncryption()
    )
    path.write_bytes(pem)
    path.chmod(mode)
    return path
