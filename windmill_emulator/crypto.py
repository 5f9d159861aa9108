"""Secret encryption for the emulator: a stdlib stand-in for Windmill's magic_crypt AES-256.

docs/windmill-api.md §5: every secret variable is stored encrypted with the per-workspace key created
with the workspace, by AES-256-CBC with PKCS#7 padding and a fixed all-zero IV, so Windmill's
encryption is deterministic. This test double keeps what callers can observe of it: the value's UTF-8
bytes padded to the next multiple of 16 (PKCS#7), XORed with an HMAC-SHA256 keystream of the key alone
(no nonce), base64 encoded. So (a) the stored value is never the plaintext, (b) the same value under
the same key always gives the same ciphertext, and a rewrite with the same value leaves it as it was,
(c) a ciphertext is exactly as long as Windmill's (``components.windmill.rules.encrypted_length``), so
the ``VARCHAR(15000)`` limit falls where Windmill's does, and (d) decrypting with another workspace's
key fails ("Could not decrypt value", #5154) on its padding, as CBC does. It is not meant to be secure.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string

_BLOCK = 16
_ALPHANUM = string.ascii_letters + string.digits


class DecryptError(ValueError):
    """The ciphertext is malformed or was encrypted with another key."""


def rd_string(n: int) -> str:
    """Windmill's ``rd_string``: ``n`` random alphanumeric characters (tokens, workspace keys)."""
    return "".join(secrets.choice(_ALPHANUM) for _ in range(n))


def _keystream(key: bytes, length: int) -> bytes:
    # No nonce: like magic_crypt's fixed IV, the same key and value always give the same ciphertext.
    out = bytearray()
    counter = 0
    while len(out) < length:
        out += hmac.new(key, counter.to_bytes(8, "big"), hashlib.sha256).digest()
        counter += 1
    return bytes(out[:length])


def _derive(key: str) -> bytes:
    return hmac.new(key.encode(), b"windmill-emulator-enc", hashlib.sha256).digest()


def _xor(data: bytes, stream: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(data, stream, strict=True))


def encrypt(key: str, plaintext: str) -> str:
    """Encrypt ``plaintext`` with the workspace ``key``, deterministically; returns base64 text."""
    data = plaintext.encode()
    pad = _BLOCK - len(data) % _BLOCK
    padded = data + bytes([pad]) * pad
    return base64.b64encode(_xor(padded, _keystream(_derive(key), len(padded)))).decode()


def decrypt(key: str, ciphertext: str) -> str:
    """Decrypt a value produced by :func:`encrypt` with the same key, or raise DecryptError."""
    try:
        raw = base64.b64decode(ciphertext.encode(), validate=True)
    except (ValueError, UnicodeEncodeError) as exc:
        raise DecryptError("Could not decrypt value: invalid base64") from exc
    if not raw or len(raw) % _BLOCK:
        raise DecryptError("Could not decrypt value: not whole blocks")
    padded = _xor(raw, _keystream(_derive(key), len(raw)))
    pad = padded[-1]
    if not 1 <= pad <= _BLOCK or padded[-pad:] != bytes([pad]) * pad:
        raise DecryptError("Could not decrypt value")
    try:
        return padded[:-pad].decode()
    except UnicodeDecodeError as exc:
        raise DecryptError("Could not decrypt value") from exc
