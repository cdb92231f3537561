"""AES-256-GCM for the copies at the backup target (`cryptography`'s AEAD, not our own
cipher). The nonce is derived from the key and the blob's own hash: a blob is immutable and
named by its content, so the same blob under the same key always gives the same bytes (a rerun
after a crash writes nothing new) and a nonce is never reused for different plaintexts."""

from __future__ import annotations

import hashlib
import hmac

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE = 12


class DecryptionFailed(Exception):
    """The bytes were not encrypted under this key and label, or were altered."""


def _aad(key_id: str, label: str) -> bytes:
    # Binds the ciphertext to the key id and to what it claims to be: a copy swapped for
    # another blob's under the same key is refused, not decrypted into the wrong document.
    return f"paraphe-backup\x00{key_id}\x00{label}".encode()


def encrypt(key: bytes, key_id: str, label: str, plaintext: bytes) -> bytes:
    nonce = hmac.new(key, label.encode(), hashlib.sha256).digest()[:_NONCE]
    return nonce + AESGCM(key).encrypt(nonce, plaintext, _aad(key_id, label))


def decrypt(key: bytes, key_id: str, label: str, data: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(data[:_NONCE], data[_NONCE:], _aad(key_id, label))
    except (InvalidTag, ValueError) as exc:
        raise DecryptionFailed(label) from exc
