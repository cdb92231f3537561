"""The database dump's chunked encryption (STREAM over AES-256-GCM): a copy of several chunks
round-trips; a chunk cut off, moved, dropped or altered, or bytes added, are refused with a
French reason; memory stays bounded by the chunk size, not the dump's; a copy made whole by
the code before chunking is still read."""

from __future__ import annotations

import hashlib
import io
import os
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.backups.encryption import (
    CHUNK,
    MAGIC,
    DecryptionFailed,
    decrypt_stream,
    encrypt,
    encrypt_stream,
)
from storage import FilesystemBlobStore

KEY = bytes(range(32))
HEADER = len(MAGIC) + 4
RECORD = CHUNK + 16


def _sealed(plain: bytes, label: str = "empreinte") -> bytes:
    return b"".join(encrypt_stream(KEY, "base", label, [plain]))


def _opened(data: bytes, label: str = "empreinte", key: bytes = KEY) -> bytes:
    return b"".join(decrypt_stream(key, "base", label, io.BytesIO(data)))


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 7])
def test_any_size_round_trips_and_is_cut_in_chunks(size: int) -> None:
    plain = os.urandom(size)
    sealed = _sealed(plain)
    chunks = max(1, -(-size // CHUNK))
    assert len(sealed) == HEADER + size + 16 * chunks
    assert _opened(sealed) == plain


def test_the_input_pieces_do_not_change_the_copy() -> None:
    plain = os.urandom(2 * CHUNK + 100)
    pieces = [plain[i : i + 1000] for i in range(0, len(plain), 1000)]
    assert b"".join(encrypt_stream(KEY, "base", "x", pieces)) == _sealed(plain, "x")


def _records(sealed: bytes) -> list[bytes]:
    body = sealed[HEADER:]
    return [body[i : i + RECORD] for i in range(0, len(body), RECORD)]


@pytest.fixture(scope="module")
def four_chunks() -> tuple[bytes, bytes]:
    plain = os.urandom(3 * CHUNK + 500)
    return plain, _sealed(plain)


def _refused(data: bytes, reason: str) -> None:
    with pytest.raises(DecryptionFailed) as refused:
        _opened(data)
    assert reason in str(refused.value)


def test_a_copy_cut_at_a_chunk_boundary_is_refused(four_chunks: tuple[bytes, bytes]) -> None:
    _, sealed = four_chunks
    cut = sealed[: HEADER + 3 * RECORD]
    _refused(cut, "dernier bloc lu altéré, déplacé ou manquant (copie tronquée ou réordonnée)")


def test_a_copy_cut_inside_a_chunk_is_refused(four_chunks: tuple[bytes, bytes]) -> None:
    _, sealed = four_chunks
    _refused(sealed[:-10], "dernier bloc lu altéré")


def test_reordered_chunks_are_refused(four_chunks: tuple[bytes, bytes]) -> None:
    _, sealed = four_chunks
    r = _records(sealed)
    _refused(sealed[:HEADER] + r[0] + r[2] + r[1] + r[3], "bloc n° 1 altéré, déplacé ou manquant")


def test_a_dropped_or_repeated_chunk_is_refused(four_chunks: tuple[bytes, bytes]) -> None:
    _, sealed = four_chunks
    r = _records(sealed)
    _refused(sealed[:HEADER] + r[0] + r[2] + r[3], "bloc n° 1")
    _refused(sealed[:HEADER] + r[0] + r[1] + r[1] + r[2] + r[3], "bloc n° 2")


def test_bytes_after_the_final_chunk_are_refused(four_chunks: tuple[bytes, bytes]) -> None:
    _, sealed = four_chunks
    # Into the final (short) chunk's record: its tag no longer checks.
    _refused(sealed + b"\x00" * 40, "dernier bloc lu altéré")
    # After a final chunk that fills its record: that chunk is then read as not final.
    whole = _sealed(os.urandom(2 * CHUNK))
    _refused(whole + b"\x00" * 40, "bloc n° 1 altéré")


def test_a_flipped_bit_anywhere_is_refused(four_chunks: tuple[bytes, bytes]) -> None:
    _, sealed = four_chunks
    for position, reason in [
        (HEADER + 5, "clé différente, ou premier bloc altéré"),
        (HEADER + 2 * RECORD + 77, "bloc n° 2 altéré"),
        (len(sealed) - 1, "dernier bloc lu altéré"),
    ]:
        flipped = bytearray(sealed)
        flipped[position] ^= 0x01
        _refused(bytes(flipped), reason)
    changed_header = bytearray(sealed)
    changed_header[len(MAGIC) + 3] ^= 0x01  # the chunk size
    _refused(bytes(changed_header), "en-tête de copie par blocs inconnu")


def test_another_key_or_label_is_refused(four_chunks: tuple[bytes, bytes]) -> None:
    _, sealed = four_chunks
    with pytest.raises(DecryptionFailed, match="clé différente"):
        _opened(sealed, key=bytes(32))
    with pytest.raises(DecryptionFailed, match="clé différente"):
        _opened(sealed, label="autre empreinte")


def test_a_whole_copy_made_before_chunking_is_still_read() -> None:
    plain = os.urandom(CHUNK + 3)
    # What the code before chunking wrote for PARAPHE_BACKUP_KEY: one AEAD over the whole dump.
    old = encrypt(KEY, "base", "empreinte", plain)
    assert _opened(old) == plain
    with pytest.raises(DecryptionFailed):
        _opened(old[:-1])


def _file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as reader:
        while chunk := reader.read(256 * 1024):
            yield chunk


def test_a_20_mb_dump_goes_through_in_bounded_memory(tmp_path: Path) -> None:
    dump, size = tmp_path / "base.dump", 20 * 1024 * 1024
    digest = hashlib.sha256()
    with dump.open("wb") as out:
        for _ in range(size // CHUNK):
            piece = os.urandom(CHUNK)
            digest.update(piece)
            out.write(piece)
    store = FilesystemBlobStore(tmp_path / "cible")
    restored, check = tmp_path / "restauree.dump", hashlib.sha256()
    tracemalloc.start()
    try:
        ref = store.put_stream(encrypt_stream(KEY, "base", "x", _file_chunks(dump)))
        with store.open(ref.sha256) as reader, restored.open("wb") as out:
            for chunk in decrypt_stream(KEY, "base", "x", reader):
                check.update(chunk)
                out.write(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert ref.size == HEADER + size + 16 * (size // CHUNK)
    assert check.hexdigest() == digest.hexdigest()
    # A few chunks at most (the one being sealed, the look-ahead), never the 20 MB dump.
    assert peak < 6 * CHUNK, peak
