"""The BlobStore contract: the same assertions against the fake and the real stores (the
filesystem, and S3 through moto's server on loopback: tests/s3_server.py says what moto
honours)."""

from __future__ import annotations

import hashlib
import os
import random
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from storage import (
    BlobCorrupted,
    BlobNotFound,
    BlobRef,
    BlobStore,
    FilesystemBlobStore,
    InvalidKey,
    MemoryBlobStore,
    S3BlobStore,
    S3Location,
)
from tests.s3_server import new_bucket, s3_client

CONTRACT = b"%PDF-1.7\nContrat de prestation, version signee\n%%EOF\n"
CONTRACT_SHA256 = hashlib.sha256(CONTRACT).hexdigest()
ABSENT = "0" * 64

BAD_KEYS = [
    "../etc/passwd",
    "../" + "a" * 61,
    CONTRACT_SHA256.upper(),
    CONTRACT_SHA256[:63],
    CONTRACT_SHA256 + "0",
    CONTRACT_SHA256[:63] + "\n",
    CONTRACT_SHA256[:2] + "/" + CONTRACT_SHA256[3:],
    "g" * 64,
    "",
]


@pytest.fixture(params=["memory", "filesystem", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "memory":
        return MemoryBlobStore()
    if request.param == "s3":
        # A plain bucket (so a raw client can overwrite an object, as `corrupt` does), under a
        # prefix; a streamed blob over 64 KiB takes the temporary-key path.
        client = s3_client(request.getfixturevalue("s3_endpoint"))
        location = S3Location(new_bucket(client, lock=False), "archives/paraphe/")
        return S3BlobStore(client, location, multipart_threshold=64 * 1024)
    return FilesystemBlobStore(tmp_path / "blobs")


def corrupt(store: BlobStore, sha256: str) -> None:
    """Flip the first stored byte, as bit rot would, behind the store's back."""
    if isinstance(store, MemoryBlobStore):
        store._corrupt(sha256)
        return
    if isinstance(store, S3BlobStore):
        raw = store._client  # the same endpoint, without the store's conditional writes
        key = store.location.prefix + sha256
        data = raw.get_object(Bucket=store.location.bucket, Key=key)["Body"].read()
        raw.put_object(
            Bucket=store.location.bucket, Key=key, Body=bytes([data[0] ^ 0xFF]) + data[1:]
        )
        return
    assert isinstance(store, FilesystemBlobStore)
    path = store.root / sha256[:2] / sha256[2:4] / sha256
    data = path.read_bytes()
    path.chmod(0o644)
    path.write_bytes(bytes([data[0] ^ 0xFF]) + data[1:])
    path.chmod(0o444)


def five_megabytes() -> bytes:
    return random.Random(0).randbytes(5 * 1024 * 1024)


def in_chunks(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def test_put_then_get_returns_the_same_bytes(store: BlobStore) -> None:
    ref = store.put(CONTRACT)

    assert store.get(ref.sha256) == CONTRACT


def test_put_returns_the_sha256_and_size_of_the_content(store: BlobStore) -> None:
    assert store.put(CONTRACT) == BlobRef(sha256=CONTRACT_SHA256, size=len(CONTRACT))
    assert store.exists(CONTRACT_SHA256)
    assert store.size(CONTRACT_SHA256) == len(CONTRACT)


def test_put_is_idempotent(store: BlobStore) -> None:
    first = store.put(CONTRACT)
    second = store.put(CONTRACT)
    third = store.put_stream(in_chunks(CONTRACT, 7))

    assert first == second == third
    assert list(store.iter_keys()) == [CONTRACT_SHA256]
    assert store.get(CONTRACT_SHA256) == CONTRACT


def test_empty_blob_is_a_blob(store: BlobStore) -> None:
    ref = store.put(b"")

    assert ref == BlobRef(sha256=hashlib.sha256(b"").hexdigest(), size=0)
    assert store.get(ref.sha256) == b""
    assert store.put_stream(iter(())) == ref


def test_put_stream_gives_the_same_key_as_put(store: BlobStore) -> None:
    data = five_megabytes()

    streamed = store.put_stream(in_chunks(data, 65_537))

    assert streamed == BlobRef(sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    assert store.put(data) == streamed
    assert store.get(streamed.sha256) == data
    assert list(store.iter_keys()) == [streamed.sha256]


def test_open_streams_the_content(store: BlobStore) -> None:
    data = five_megabytes()
    ref = store.put(data)

    with store.open(ref.sha256) as reader:
        read = b"".join(iter(lambda: reader.read(100_003), b""))

    assert read == data


def test_get_and_verify_detect_corruption(store: BlobStore) -> None:
    ref = store.put(CONTRACT)
    store.verify(ref.sha256)

    corrupt(store, ref.sha256)

    with pytest.raises(BlobCorrupted) as from_get:
        store.get(ref.sha256)
    with pytest.raises(BlobCorrupted) as from_verify:
        store.verify(ref.sha256)
    for error in (from_get.value, from_verify.value):
        assert error.expected == ref.sha256
        assert len(error.actual) == 64
        assert error.actual != ref.sha256


def test_open_detects_corruption_when_read_to_the_end(store: BlobStore) -> None:
    ref = store.put(five_megabytes())
    corrupt(store, ref.sha256)

    with store.open(ref.sha256) as reader, pytest.raises(BlobCorrupted):
        while reader.read(65_536):
            continue


def test_missing_key_is_not_found(store: BlobStore) -> None:
    assert not store.exists(ABSENT)
    assert store.delete(ABSENT) is False
    with pytest.raises(BlobNotFound):
        store.get(ABSENT)
    with pytest.raises(BlobNotFound):
        store.open(ABSENT)
    with pytest.raises(BlobNotFound):
        store.size(ABSENT)
    with pytest.raises(BlobNotFound):
        store.verify(ABSENT)


@pytest.mark.parametrize("key", BAD_KEYS)
@pytest.mark.parametrize("method", ["get", "open", "exists", "size", "verify", "delete"])
def test_malformed_key_is_rejected(store: BlobStore, method: str, key: str) -> None:
    store.put(CONTRACT)

    with pytest.raises(InvalidKey):
        getattr(store, method)(key)

    assert store.get(CONTRACT_SHA256) == CONTRACT


def test_delete_removes_the_blob(store: BlobStore) -> None:
    kept = store.put(b"facture 2025-0001")
    ref = store.put(CONTRACT)

    assert store.delete(ref.sha256) is True

    assert not store.exists(ref.sha256)
    assert store.delete(ref.sha256) is False
    with pytest.raises(BlobNotFound):
        store.get(ref.sha256)
    assert list(store.iter_keys()) == [kept.sha256]
    assert store.put(CONTRACT) == ref
    assert store.get(ref.sha256) == CONTRACT


def test_iter_keys_lists_every_blob_in_order(store: BlobStore) -> None:
    assert list(store.iter_keys()) == []
    refs = [store.put(f"document {n}".encode()) for n in range(20)]

    assert list(store.iter_keys()) == sorted(ref.sha256 for ref in refs)


def test_concurrent_puts_of_the_same_content_store_it_once(store: BlobStore) -> None:
    data = os.urandom(1024 * 1024)
    threads = 20
    start = threading.Barrier(threads)

    def put(n: int) -> BlobRef:
        start.wait()
        return store.put(data) if n % 2 else store.put_stream(in_chunks(data, 10_000))

    with ThreadPoolExecutor(max_workers=threads) as pool:
        refs = set(pool.map(put, range(threads)))

    assert refs == {BlobRef(sha256=hashlib.sha256(data).hexdigest(), size=len(data))}
    assert list(store.iter_keys()) == [next(iter(refs)).sha256]
    assert store.get(next(iter(refs)).sha256) == data


@pytest.mark.parametrize(
    ("start", "length", "expected"),
    [
        (0, 10, slice(0, 10)),
        (1_000_000, 65_536, slice(1_000_000, 1_065_536)),
        (5 * 1024 * 1024 - 3, 100, slice(5 * 1024 * 1024 - 3, None)),
        (7, 0, slice(0, 0)),
        (6 * 1024 * 1024, 10, slice(0, 0)),
    ],
)
def test_open_range_returns_those_bytes(
    store: BlobStore, start: int, length: int, expected: slice
) -> None:
    data = five_megabytes()
    ref = store.put(data)

    with store.open_range(ref.sha256, start, length) as reader:
        read = reader.read()

    assert read == data[expected]


def test_open_range_of_a_missing_or_malformed_key(store: BlobStore) -> None:
    with pytest.raises(BlobNotFound):
        store.open_range(ABSENT, 0, 10).read()
    with pytest.raises(InvalidKey):
        store.open_range("../etc/passwd", 0, 10)
    with pytest.raises(ValueError, match="range"):
        store.open_range(ABSENT, -1, 10)


@pytest.mark.parametrize("key", BAD_KEYS)
def test_blob_ref_rejects_a_malformed_key(key: str) -> None:
    with pytest.raises(InvalidKey):
        BlobRef(sha256=key, size=1)
