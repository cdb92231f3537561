"""What only the S3 store must guarantee: conditional writes, no partial blob under a content
key, S3's own Object Lock, the layout under a prefix. Against moto's server on loopback."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError
from mypy_boto3_s3 import S3Client

from storage import BlobLock, BlobLocked, LockUnavailable, S3BlobStore, S3Location, StorageError
from tests.s3_server import new_bucket, s3_client

CONTRACT = b"%PDF-1.7\nContrat de prestation\n%%EOF\n"
CONTRACT_SHA256 = hashlib.sha256(CONTRACT).hexdigest()
MiB = 1024 * 1024


@pytest.fixture
def client(s3_endpoint: str) -> S3Client:
    return s3_client(s3_endpoint)


def versions(client: S3Client, bucket: str, prefix: str = "") -> list[str]:
    page = client.list_object_versions(Bucket=bucket, Prefix=prefix)
    return [v["Key"] for v in page.get("Versions", [])]


def in_chunks(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def test_moto_honours_if_none_match_on_put_object(client: S3Client) -> None:
    """The header the store relies on: if moto ignored it, the tests below would prove
    nothing (moto ignores it on CopyObject, which the store therefore does not use)."""
    bucket = new_bucket(client, lock=False)
    client.put_object(Bucket=bucket, Key="k", Body=b"1", IfNoneMatch="*")

    with pytest.raises(ClientError) as refused:
        client.put_object(Bucket=bucket, Key="k", Body=b"2", IfNoneMatch="*")

    assert refused.value.response["Error"]["Code"] == "PreconditionFailed"
    assert client.get_object(Bucket=bucket, Key="k")["Body"].read() == b"1"


def test_storing_again_never_writes_a_second_version(client: S3Client) -> None:
    bucket = new_bucket(client, lock=True)  # versioned: an overwrite would leave a trace
    store = S3BlobStore(client, S3Location(bucket), multipart_threshold=MiB, copy_part_size=5 * MiB)
    big = random.Random(1).randbytes(11 * MiB)  # multipart upload, then a 3-part copy

    small = store.put(CONTRACT)
    streamed = store.put_stream(in_chunks(big, 100_000))
    for _ in range(2):
        assert store.put(CONTRACT) == small
        assert store.put_stream(in_chunks(CONTRACT, 5)) == small
        assert store.put_stream(in_chunks(big, 1_000_000)) == streamed

    assert sorted(versions(client, bucket)) == sorted([small.sha256, streamed.sha256])
    assert store.get(streamed.sha256) == big
    assert client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_a_stream_that_fails_midway_leaves_no_blob(client: S3Client) -> None:
    bucket = new_bucket(client, lock=False)
    store = S3BlobStore(client, S3Location(bucket, "docs/"), multipart_threshold=MiB)

    def chunks() -> Iterator[bytes]:
        yield b"x" * (6 * MiB)
        raise OSError("connexion du client perdue")

    with pytest.raises(OSError, match="perdue"):
        store.put_stream(chunks())

    assert list(store.iter_keys()) == []
    assert versions(client, bucket) == []  # not even the temporary key


def test_an_existing_object_of_another_size_is_not_taken_for_the_blob(client: S3Client) -> None:
    bucket = new_bucket(client, lock=False)
    store = S3BlobStore(client, S3Location(bucket))
    client.put_object(Bucket=bucket, Key=CONTRACT_SHA256, Body=b"truncated")

    with pytest.raises(StorageError, match="already stored with 9 bytes"):
        store.put(CONTRACT)


def test_s3_itself_refuses_to_delete_a_locked_version(client: S3Client) -> None:
    """Even a store whose clock runs ahead (or a bug in its own check) cannot delete: the
    bucket's Object Lock answers AccessDenied, reported as BlobLocked."""
    bucket = new_bucket(client, lock=True)
    honest = S3BlobStore(client, S3Location(bucket))
    ahead = S3BlobStore(
        client, S3Location(bucket), clock=lambda: datetime.now(UTC) + timedelta(days=400)
    )
    ref = honest.put(CONTRACT)
    honest.retain(ref.sha256, datetime.now(UTC) + timedelta(days=30))

    with pytest.raises(BlobLocked):
        ahead.delete(ref.sha256)

    assert honest.get(ref.sha256) == CONTRACT


def test_retention_needs_a_bucket_with_object_lock(client: S3Client) -> None:
    store = S3BlobStore(client, S3Location(new_bucket(client, lock=False)))
    ref = store.put(CONTRACT)

    with pytest.raises(LockUnavailable, match="Object Lock"):
        store.retain(ref.sha256, datetime.now(UTC) + timedelta(days=1))
    with pytest.raises(LockUnavailable):
        store.hold(ref.sha256, True)
    assert store.delete(ref.sha256) is True


def test_iter_keys_lists_only_the_blobs_under_the_prefix(client: S3Client) -> None:
    bucket = new_bucket(client, lock=False)
    # Pages of 5 keys: the listing must follow the continuation tokens.
    store = S3BlobStore(client, S3Location(bucket, "paraphe/blobs/"), list_page_size=5)
    other = S3BlobStore(client, S3Location(bucket, "autre/"))
    refs = [store.put(f"facture {n}".encode()) for n in range(12)]
    other.put(CONTRACT)
    client.put_object(Bucket=bucket, Key="paraphe/blobs/notes.txt", Body=b"operator")
    client.put_object(Bucket=bucket, Key="paraphe/blobs/tmp/" + "a" * 64, Body=b"pending")

    assert list(store.iter_keys()) == sorted(ref.sha256 for ref in refs)
    assert list(other.iter_keys()) == [CONTRACT_SHA256]


@pytest.mark.parametrize(
    ("url", "bucket", "prefix"),
    [
        ("s3://archives", "archives", ""),
        ("s3://archives/", "archives", ""),
        ("s3://archives/paraphe/prod", "archives", "paraphe/prod/"),
        ("s3://archives/paraphe/prod/", "archives", "paraphe/prod/"),
    ],
)
def test_location_from_url(url: str, bucket: str, prefix: str) -> None:
    assert S3Location.parse(url) == S3Location(bucket, prefix)
    assert S3Location.parse(str(S3Location.parse(url))) == S3Location(bucket, prefix)


@pytest.mark.parametrize(
    "url", ["archives", "s3:///prefix", "https://archives/p", "s3://b/p?versionId=1"]
)
def test_location_rejects_what_is_not_an_s3_url(url: str) -> None:
    with pytest.raises(ValueError, match="s3://"):
        S3Location.parse(url)


def test_a_retention_already_over_needs_no_object_lock(client: S3Client) -> None:
    """A blob whose retention ended (a document due for purge) can be copied to a bucket
    without Object Lock: there is nothing left to lock."""
    store = S3BlobStore(client, S3Location(new_bucket(client, lock=False)))
    ref = store.put(CONTRACT)

    assert store.retain(ref.sha256, datetime.now(UTC) - timedelta(days=1)) == BlobLock()
