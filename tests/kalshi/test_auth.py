"""Key loading and request signing: signatures verify with the public key (PSS is randomized)."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from kmm_tui.kalshi.auth import (
    HEADER_KEY,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    Signer,
    key_file_permission_warning,
    load_private_key,
    signing_path,
)
from kmm_tui.kalshi.errors import AuthError, KalshiError, KeyFileError
from tests.kalshi.conftest import KEY_ID, write_pem

NOW_MS = 1795881900123


def verify_rsa(key: rsa.RSAPrivateKey, headers: dict[str, str], message: str) -> None:
    key.public_key().verify(
        base64.b64decode(headers[HEADER_SIGNATURE], validate=True),
        message.encode(),
        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
        hashes.SHA256(),
    )


def test_rsa_signature_verifies_over_timestamp_method_path(rsa_key: rsa.RSAPrivateKey) -> None:
    signer = Signer(KEY_ID, rsa_key)
    path = "/trade-api/v2/portfolio/events/orders/0b7f3c52-9e1a-4d6b-8f27-5a9c1e3d7b40"
    headers = signer.headers("delete", path + "?market_ticker=X", NOW_MS)
    assert headers[HEADER_KEY] == KEY_ID
    assert headers[HEADER_TIMESTAMP] == "1795881900123"
    verify_rsa(rsa_key, headers, f"1795881900123DELETE{path}")
    # The query is not part of the signed string, and a different method must not verify.
    with pytest.raises(InvalidSignature):
        verify_rsa(rsa_key, headers, f"1795881900123DELETE{path}?market_ticker=X")
    with pytest.raises(InvalidSignature):
        verify_rsa(rsa_key, headers, f"1795881900123GET{path}")


def test_rsa_salt_is_digest_length_not_max(rsa_key: rsa.RSAPrivateKey) -> None:
    headers = Signer(KEY_ID, rsa_key).headers("GET", "/trade-api/v2/portfolio/orders", NOW_MS)
    verify_rsa(rsa_key, headers, "1795881900123GET/trade-api/v2/portfolio/orders")
    max_salt = rsa_key.key_size // 8 - 32 - 2  # what PSS.MAX_LENGTH would have used when signing
    for wrong_salt in (0, 20, max_salt):
        with pytest.raises(InvalidSignature):
            rsa_key.public_key().verify(
                base64.b64decode(headers[HEADER_SIGNATURE]),
                b"1795881900123GET/trade-api/v2/portfolio/orders",
                padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=wrong_salt),
                hashes.SHA256(),
            )


def test_signatures_are_fresh_each_call(rsa_key: rsa.RSAPrivateKey) -> None:
    signer = Signer(KEY_ID, rsa_key)
    first = signer.headers("GET", "/trade-api/ws/v2", NOW_MS)
    second = signer.headers("GET", "/trade-api/ws/v2", NOW_MS + 1)
    assert first[HEADER_TIMESTAMP] != second[HEADER_TIMESTAMP]
    verify_rsa(rsa_key, second, f"{NOW_MS + 1}GET/trade-api/ws/v2")


def test_ed25519_signature_verifies(ed_key: ed25519.Ed25519PrivateKey) -> None:
    signer = Signer(KEY_ID, ed_key)
    headers = signer.headers("GET", "/trade-api/v2/portfolio/orders?status=resting", NOW_MS)
    ed_key.public_key().verify(
        base64.b64decode(headers[HEADER_SIGNATURE]), b"1795881900123GET/trade-api/v2/portfolio/orders"
    )
    assert signer.algorithm == "Ed25519"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/trade-api/v2/portfolio/orders?status=resting", "/trade-api/v2/portfolio/orders"),
        ("https://external-api.kalshi.com/trade-api/v2/markets?x=1", "/trade-api/v2/markets"),
        ("/trade-api/ws/v2", "/trade-api/ws/v2"),
    ],
)
def test_signing_path_drops_host_and_query(target: str, expected: str) -> None:
    assert signing_path(target) == expected


@pytest.mark.parametrize(
    "fmt", [serialization.PrivateFormat.TraditionalOpenSSL, serialization.PrivateFormat.PKCS8]
)
def test_load_rsa_pkcs1_and_pkcs8(tmp_path: Path, rsa_key: rsa.RSAPrivateKey, fmt: object) -> None:
    path = write_pem(tmp_path / "key.pem", rsa_key, fmt)  # type: ignore[arg-type]
    loaded = load_private_key(path)
    assert isinstance(loaded, rsa.RSAPrivateKey)
    assert loaded.private_numbers() == rsa_key.private_numbers()
    signer = Signer.from_file(KEY_ID, path)
    verify_rsa(rsa_key, signer.headers("GET", "/trade-api/v2/x", NOW_MS), "1795881900123GET/trade-api/v2/x")


def test_load_ed25519(tmp_path: Path, ed_key: ed25519.Ed25519PrivateKey) -> None:
    path = write_pem(tmp_path / "ed.pem", ed_key, serialization.PrivateFormat.PKCS8)
    assert isinstance(load_private_key(path), ed25519.Ed25519PrivateKey)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError) as info:
        load_private_key(tmp_path / "nope.pem")
    assert "does not exist" in info.value.user_message
    assert isinstance(info.value, AuthError) and isinstance(info.value, KalshiError)


def test_directory_is_not_a_key(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="not a file"):
        load_private_key(tmp_path)


def test_not_pem(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    path.write_text("hello, I am not a key\n")
    with pytest.raises(KeyFileError) as info:
        load_private_key(path)
    assert "not a PEM" in info.value.user_message


def test_public_key_is_rejected(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    path = tmp_path / "pub.pem"
    path.write_bytes(
        rsa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    with pytest.raises(KeyFileError, match="does not contain a private key"):
        load_private_key(path)


def test_corrupt_pem_does_not_leak_bytes(tmp_path: Path) -> None:
    secret = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"
    path = tmp_path / "bad.pem"
    path.write_text(f"-----BEGIN PRIVATE KEY-----\n{secret}\n-----END PRIVATE KEY-----\n")
    with pytest.raises(KeyFileError) as info:
        load_private_key(path)
    assert "not a valid PEM private key" in info.value.user_message
    assert secret not in str(info.value) and secret not in info.value.user_message
    assert info.value.__cause__ is None


def test_encrypted_key(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    path = tmp_path / "enc.pem"
    path.write_bytes(
        rsa_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"hunter2"),
        )
    )
    with pytest.raises(KeyFileError) as info:
        load_private_key(path)
    assert "encrypted" in info.value.user_message


def test_unsupported_key_type(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    path = write_pem(tmp_path / "ec.pem", key, serialization.PrivateFormat.PKCS8)
    with pytest.raises(KeyFileError, match="RSA or Ed25519"):
        load_private_key(path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file, so permissions cannot deny it")
def test_unreadable(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    path = write_pem(tmp_path / "key.pem", rsa_key, serialization.PrivateFormat.PKCS8, mode=0o000)
    with pytest.raises(KeyFileError, match="not readable"):
        load_private_key(path)


def test_permission_warning(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    path = write_pem(tmp_path / "key.pem", rsa_key, serialization.PrivateFormat.PKCS8)
    assert key_file_permission_warning(path) is None
    path.chmod(0o644)
    warning = key_file_permission_warning(path)
    assert warning is not None and "chmod 600" in warning
    path.chmod(0o640)
    assert key_file_permission_warning(path) is not None


def test_repr_never_shows_key_material(rsa_key: rsa.RSAPrivateKey) -> None:
    signer = Signer(KEY_ID, rsa_key)
    text = repr(signer) + str(signer)
    pem = rsa_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    body = "".join(pem.splitlines()[1:-1])
    assert KEY_ID in text
    assert body[:20] not in text
    assert str(rsa_key.private_numbers().d)[:20] not in text


def test_empty_key_id_is_refused(rsa_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(KeyFileError, match="key id"):
        Signer("  ", rsa_key)
