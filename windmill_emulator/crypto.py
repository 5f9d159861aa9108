"""Secret encryption for the emulator: a stdlib stand-in for Windmill's magic_crypt AES-256.

docs/windmill-api.md §5: every secret variable is stored encrypted with the per-workspace key created
with the workspace. This test double uses an HMAC-SHA256 keystream XOR with a fresh random nonce
per write plus an HMAC tag, base64 encoded, so that (a) the stored value is never the plaintext,
(b) writing the same value twice gives different ciphertexts, and (c) decrypting with another
workspace's key fails ("Could not decrypt value", #5154). It is not meant to be secure.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string

_NONCE_LEN = 12
_TAG_LEN = 16
_ALPHANUM = string.ascii_letters + string.digits


class DecryptError(ValueError):
    """The ciphertext is malformed or was encrypted with another key."""


def rd_string(n: int) -> str:
    """Windmill's ``rd_string``: ``n`` random alphanumeric characters (tokens, workspace keys)."""
    return "".join(secrets.choice(_ALPHANUM) for _ in range(n))


def _keystream(key: bytes, nonce: bytes, length: int) -> bytes:
    out = bytearray()
    counter = 0
    while len(out) < length:
        out += hmac.new(key, nonce + counter.to_bytes(8, "big"), hashlib.sha256).digest()
        counter += 1
    return bytes(out[:length])


def _derive(key: str) -> tuple[bytes, bytes]:
    raw = key.encode()
    return (
        hmac.new(raw, b"windmill-emulator-enc", hashlib.sha256).digest(),
        hmac.new(raw, b"windmill-emulator-mac", hashlib.sha256).digest(),
    )


def encrypt(key: str, plaintext: str) -> str:
    """Encrypt ``plaintext`` with the workspace ``key`` and a fresh nonce; returns base64 text."""
    enc_key, mac_key = _derive(key)
    nonce = secrets.token_bytes(_NONCE_LEN)
    data = plaintext.encode()
    body = bytes(a ^ b for a, b in zip(data, _keystream(enc_key, nonce, len(data)), strict=True))
    tag = hmac.new(mac_key, nonce + body, hashlib.sha256).digest()[:_TAG_LEN]
    return base64.b64encode(nonce + body + tag).decode()


def decrypt(key: str, ciphertext: str) -> str:
    """Decrypt a value produced by :func:`encrypt` with the same key, or raise DecryptError."""
    try:
        raw = base64.b64decode(ciphertext.encode(), validate=True)
    except (ValueError, UnicodeEncodeError) as exc:
        raise DecryptError("Could not decrypt value: invalid base64") from exc
    if len(raw) < _NONCE_LEN + _TAG_LEN:
        raise DecryptError("Could not decrypt value: too short")
    enc_key, mac_key = _derive(key)
    nonce, body, tag = raw[:_NONCE_LEN], raw[_NONCE_LEN:-_TAG_LEN], raw[-_TAG_LEN:]
    expected = hmac.new(mac_key, nonce + body, hashlib.sha256).digest()[:_TAG_LEN]
    if not hmac.compare_digest(tag, expected):
        raise DecryptError("Could not decrypt value")
    data = bytes(a ^ b for a, b in zip(body, _keystream(enc_key, nonce, len(body)), strict=True))
    try:
        return data.decode()
    except UnicodeDecodeError as exc:
        raise DecryptError("Could not decrypt value") from exc
