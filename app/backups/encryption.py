"""AES-256-GCM for the copies at the backup target (`cryptography`'s AEAD, not our own
cipher). The nonce is derived from the key and the blob's own hash: a blob is immutable and
named by its content, so the same blob under the same key always gives the same bytes (a rerun
after a crash writes nothing new) and a nonce is never reused for different plaintexts.

The database dump, which may be larger than memory, is encrypted in chunks instead (the STREAM
construction of Hoang, Reyhanitabar, Rogaway and Vizár, as Tink and age use it): a header, then
each chunk of `CHUNK` bytes sealed on its own under the nonce `prefix ‖ index ‖ last`, where
`prefix` (7 bytes) is derived from the key and the dump's hash like the whole-blob nonce, `index`
is the chunk's position (4 bytes) and `last` is 1 on the final chunk only. A chunk moved,
dropped, duplicated or cut off, or bytes added after the final one, are refused: the chunk's
tag does not check under the nonce its new place implies. Copies made before this scheme (one
whole-blob AEAD) have no header and are still read by `decrypt_stream`."""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE = 12
_TAG = 16
_PREFIX = 7
# Marks a chunked copy: a whole-blob copy starts with its 12-byte HMAC-derived nonce, which
# matches these 16 bytes with probability 2**-128.
MAGIC = b"paraphe-stream1\x00"
CHUNK = 1024 * 1024
_HEADER = MAGIC + struct.pack(">I", CHUNK)


class DecryptionFailed(Exception):
    """The bytes were not encrypted under this key and label, or were altered."""


def _aad(key_id: str, label: str) -> bytes:
    # Binds the ciphertext to the key id and to what it claims to be: a copy swapped for
    # another blob's under the same key is refused, not decrypted into the wrong document.
    return f"paraphe-backup\x00{key_id}\x00{label}".encode()


def _nonce(key: bytes, label: str) -> bytes:
    return hmac.new(key, label.encode(), hashlib.sha256).digest()[:_NONCE]


def encrypt(key: bytes, key_id: str, label: str, plaintext: bytes) -> bytes:
    nonce = _nonce(key, label)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, _aad(key_id, label))


def decrypt(key: bytes, key_id: str, label: str, data: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(data[:_NONCE], data[_NONCE:], _aad(key_id, label))
    except (InvalidTag, ValueError) as exc:
        raise DecryptionFailed(label) from exc


def _chunk_nonce(prefix: bytes, index: int, last: bool) -> bytes:
    if index >= 2**32:
        raise ValueError("copie trop grande : plus de 2**32 blocs")
    return prefix + struct.pack(">IB", index, 1 if last else 0)


def _stream_prefix(key: bytes, label: str) -> bytes:
    # Domain-separated from the whole-blob nonce: the same label never gives both.
    return hmac.new(key, b"stream\x00" + label.encode(), hashlib.sha256).digest()[:_PREFIX]


def _rechunk(chunks: Iterable[bytes], size: int) -> Iterator[bytes]:
    """`chunks` cut again into pieces of exactly `size` bytes (the last one shorter or empty)."""
    buffer = bytearray()
    for piece in chunks:
        buffer += piece
        while len(buffer) > size:
            yield bytes(buffer[:size])
            del buffer[:size]
    yield bytes(buffer)


def encrypt_stream(key: bytes, key_id: str, label: str, chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The chunked copy of the concatenation of `chunks`: at most two chunks held at once."""
    aead, aad, prefix = AESGCM(key), _aad(key_id, label) + _HEADER, _stream_prefix(key, label)
    yield _HEADER
    index, pending = 0, None
    for piece in _rechunk(chunks, CHUNK):
        if pending is not None:
            yield aead.encrypt(_chunk_nonce(prefix, index, False), pending, aad)
            index += 1
        pending = piece
    # `_rechunk` always yields at least once: the last piece, possibly empty, is sealed final.
    assert pending is not None
    yield aead.encrypt(_chunk_nonce(prefix, index, True), pending, aad)


def _read_exactly(reader: BinaryIO, size: int) -> bytes:
    parts, missing = [], size
    while missing:
        part = reader.read(missing)
        if not part:
            break
        parts.append(part)
        missing -= len(part)
    return b"".join(parts)


def decrypt_stream(key: bytes, key_id: str, label: str, reader: BinaryIO) -> Iterator[bytes]:
    """The plaintext of a copy read from `reader`, chunk by chunk; a whole-blob copy (made
    before chunking) is read whole and decrypted as before. Raises `DecryptionFailed` (its
    message in French) at the first chunk that does not check, before yielding it."""
    head = _read_exactly(reader, len(_HEADER))
    if head[: len(MAGIC)] != MAGIC:
        yield decrypt(key, key_id, label, head + reader.read())
        return
    if head != _HEADER:
        raise DecryptionFailed(f"{label} : en-tête de copie par blocs inconnu")
    aead, aad, prefix = AESGCM(key), _aad(key_id, label) + _HEADER, _stream_prefix(key, label)
    record = CHUNK + _TAG
    index, current = 0, _read_exactly(reader, record)
    while True:
        # The next record is read before this one is opened: only then is it known to be last.
        following = _read_exactly(reader, record) if len(current) == record else b""
        last = not following
        try:
            yield aead.decrypt(_chunk_nonce(prefix, index, last), current, aad)
        except (InvalidTag, ValueError):
            raise DecryptionFailed(_why(label, index, last)) from None
        if last:
            return
        index, current = index + 1, following


def _why(label: str, index: int, last: bool) -> str:
    if index == 0 and last:
        return f"{label} : clé différente, ou copie altérée ou tronquée"
    if index == 0:
        return f"{label} : clé différente, ou premier bloc altéré"
    where = "dernier bloc lu" if last else f"bloc n° {index}"
    return f"{label} : {where} altéré, déplacé ou manquant (copie tronquée ou réordonnée)"
