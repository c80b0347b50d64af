"""Real throwaway private keys on disk, for tests of key-file handling (Ed25519: instant to generate)."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519


def write_key(path: Path, mode: int = 0o600) -> Path:
    """Write an unencrypted PKCS#8 Ed25519 private key to ``path`` with ``mode`` and return the path."""
    pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.write_bytes(pem)
    path.chmod(mode)
    return path
