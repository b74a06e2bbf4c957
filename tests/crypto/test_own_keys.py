"""A user's key, an API token and the log key: what does not load is a CryptoError."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from crypto import CryptoError, UserKey
from crypto.apitoken import ApiToken
from crypto.logkey import LogKey


def _pem(key, encryption=None) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             encryption or serialization.NoEncryption())


@pytest.mark.parametrize("raw", [b"x" * 31, "x" * 32, None])
def test_a_user_key_of_the_wrong_size_or_type_is_rejected(raw):
    with pytest.raises(CryptoError):
        UserKey.from_bytes(raw)


@pytest.mark.parametrize("text", ["", "dvx_", "dvx_a.b", "dvx_é.é", None, b"dvx_a.b"])
def test_text_that_is_not_an_api_token_is_rejected(text):
    with pytest.raises(CryptoError, match="not a divex API token"):
        ApiToken.parse(text)


@pytest.mark.parametrize("content", [
    b"not a key",
    _pem(Ed25519PrivateKey.generate(), serialization.BestAvailableEncryption(b"secret")),
    _pem(X25519PrivateKey.generate()),
    Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
], ids=["garbage", "password-protected", "x25519", "public-only"])
def test_a_log_key_file_that_holds_no_plain_ed25519_key_is_rejected(tmp_path, content):
    path = tmp_path / "log.key"
    path.write_bytes(content)
    with pytest.raises(CryptoError, match=r"log\.key"):
        LogKey.load_or_create(path)


def test_a_missing_log_key_file_is_created_for_its_owner_only_and_read_back(tmp_path):
    path = tmp_path / "keys" / "log.key"
    created = LogKey.load_or_create(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert LogKey.load_or_create(path).public_bytes == created.public_bytes
