"""A `BlobStore` in an S3-compatible bucket (AWS S3, MinIO, Ceph, Scaleway, OVH…), via boto3.

Layout: `<prefix><sha256>`, flat (object stores do not slow down with wide "directories");
`<prefix>tmp/` holds streamed uploads in progress, never listed as blobs.

Never overwritten: every write to a content key is conditional (`If-None-Match: *`), and a
412 (the key exists) is success once the existing object's size is checked. A content key
only ever receives a complete object: small blobs in one PutObject (atomic), streamed ones
are first uploaded (multipart) to a temporary key while hashed, then copied server-side to
their content key by a multipart copy whose completion is the conditional, atomic step. A
writer killed midway leaves a temporary key and perhaps an incomplete multipart upload, both
collected by the bucket's lifecycle rules (README), never a partial blob.

Write-once retention uses S3 Object Lock (compliance mode, legal hold): the bucket must be
created with Object Lock enabled, and then S3 itself refuses to delete a protected version.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, BinaryIO, cast

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from storage.blobs import (
    BaseBlobStore,
    BlobLock,
    BlobRef,
    extended,
    is_key,
    utc_now,
    validate_key,
)
from storage.errors import BlobLocked, BlobNotFound, LockUnavailable, StorageError
from storage.s3_location import S3Location

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import HeadObjectOutputTypeDef

_TMP = "tmp/"
_MiB = 1024 * 1024
# A single UploadPartCopy may copy at most 5 GiB; below that, fewer parts are fewer requests.
_COPY_PART = 1024 * _MiB
_CONFLICT_RETRIES = 5


class S3BlobStore(BaseBlobStore):
    """Immutable, content-addressed blobs in `location` through the boto3 `client`.

    `multipart_threshold`: a streamed blob larger than this goes through a temporary key and
    a multipart upload (bounded memory); a smaller one is sent in one conditional PutObject.
    `clock` only serves the early, readable refusal of `delete`: S3 enforces the lock itself.
    """

    def __init__(
        self,
        client: S3Client,
        location: S3Location,
        *,
        multipart_threshold: int = 8 * _MiB,
        copy_part_size: int = _COPY_PART,
        list_page_size: int = 1000,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._client = client
        self._bucket = location.bucket
        self._prefix = location.prefix
        self._threshold = max(multipart_threshold, 1)
        self._copy_part = copy_part_size
        # S3's smallest multipart part is 5 MiB (the last one excepted).
        part = max(self._threshold, 5 * _MiB)
        self._transfer = TransferConfig(multipart_threshold=part, multipart_chunksize=part)
        self._page_size = list_page_size
        self._clock = clock
        self._lock_enabled: bool | None = None
        self.location = location

    # -- writing -------------------------------------------------------------------------

    def put(self, data: bytes) -> BlobRef:
        digest = hashlib.sha256(data)
        ref = BlobRef(sha256=digest.hexdigest(), size=len(data))
        for attempt in range(_CONFLICT_RETRIES):
            try:
                self._client.put_object(
                    Bucket=self._bucket,
                    Key=self._key(ref.sha256),
                    Body=data,
                    IfNoneMatch="*",
                    # S3 re-hashes the body and refuses it if it was damaged on the way.
                    ChecksumSHA256=base64.b64encode(digest.digest()).decode(),
                )
                return ref
            except ClientError as exc:
                if _code(exc) in {"PreconditionFailed", "412"}:
                    self._check_existing(ref)
                    return ref
                if not _conflict(exc) or attempt == _CONFLICT_RETRIES - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))  # a concurrent writer of the same content
        raise AssertionError("unreachable")

    def put_stream(self, chunks: Iterable[bytes]) -> BlobRef:
        iterator = iter(chunks)
        head = bytearray()
        for chunk in iterator:
            head += chunk
            if len(head) > self._threshold:
                break
        else:
            return self.put(bytes(head))
        source = _HashingStream(head, iterator)
        tmp = f"{self._prefix}{_TMP}{uuid.uuid4().hex}"
        try:
            self._client.upload_fileobj(
                cast(BinaryIO, io.BufferedReader(source, buffer_size=_MiB)),
                self._bucket,
                tmp,
                Config=self._transfer,
            )
            ref = BlobRef(sha256=source.hexdigest(), size=source.size)
            self._install(tmp, ref)
        finally:
            # A cleanup failure must not hide the outcome (nor turn a stored blob into an
            # error): what is left under tmp/ is collected by the bucket's lifecycle rule.
            with contextlib.suppress(ClientError):
                self._remove_versions(tmp)
        return ref

    def _install(self, tmp: str, ref: BlobRef) -> None:
        """Copy `tmp` to the content key server-side; the completion is conditional."""
        final = self._key(ref.sha256)
        if self.exists(ref.sha256):
            self._check_existing(ref)
            return
        upload = self._client.create_multipart_upload(Bucket=self._bucket, Key=final)
        upload_id = upload["UploadId"]
        try:
            parts = []
            for number, start in enumerate(range(0, ref.size, self._copy_part), start=1):
                end = min(start + self._copy_part, ref.size) - 1
                copied = self._client.upload_part_copy(
                    Bucket=self._bucket,
                    Key=final,
                    UploadId=upload_id,
                    PartNumber=number,
                    CopySource={"Bucket": self._bucket, "Key": tmp},
                    CopySourceRange=f"bytes={start}-{end}",
                )
                parts.append({"PartNumber": number, "ETag": copied["CopyPartResult"]["ETag"]})
            self._client.complete_multipart_upload(
                Bucket=self._bucket,
                Key=final,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},  # type: ignore[typeddict-item]
                IfNoneMatch="*",
            )
        except ClientError as exc:
            self._abort(final, upload_id)
            if _code(exc) in {"PreconditionFailed", "412"} or _conflict(exc):
                self._check_existing(ref)  # the same content, installed by another writer
                return
            raise

    def _abort(self, key: str, upload_id: str) -> None:
        # Already completed or gone: the bucket's lifecycle rule collects whatever remains.
        with contextlib.suppress(ClientError):
            self._client.abort_multipart_upload(Bucket=self._bucket, Key=key, UploadId=upload_id)

    def _check_existing(self, ref: BlobRef) -> None:
        """The content key is taken: accept it if it has the size of our content (same key,
        same bytes, barring corruption, which reads and the scrub detect)."""
        stored = self.size(ref.sha256)
        if stored != ref.size:
            raise StorageError(
                f"blob {ref.sha256} already stored with {stored} bytes instead of {ref.size}: "
                "the existing object is damaged (run `paraphe storage scrub`)"
            )

    # -- reading -------------------------------------------------------------------------

    def _open_range(self, sha256: str, start: int, length: int) -> BinaryIO:
        if length == 0:
            validate_key(sha256)
            return io.BytesIO(b"")
        try:
            return self._open_raw(sha256, f"bytes={start}-{start + length - 1}")
        except ClientError as exc:
            if _code(exc) == "InvalidRange":  # starts past the end
                return io.BytesIO(b"")
            raise

    def exists(self, sha256: str) -> bool:
        try:
            self._head(sha256)
        except BlobNotFound:
            return False
        return True

    def size(self, sha256: str) -> int:
        return self._head(sha256)["ContentLength"]

    def iter_keys(self) -> Iterator[str]:
        # The delimiter keeps tmp/ (and anything deeper) out; S3 lists keys in ascending
        # byte order, which for hex digits is the order of the keys.
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self._bucket,
            Prefix=self._prefix,
            Delimiter="/",
            PaginationConfig={"PageSize": self._page_size},
        )
        for page in pages:
            for item in page.get("Contents", []):
                name = item["Key"][len(self._prefix) :]
                if is_key(name):
                    yield name

    # -- retention -----------------------------------------------------------------------

    def retain(self, sha256: str, until: datetime) -> BlobLock:
        current = self.lock(sha256)
        wanted = extended(current, until)
        if wanted == current or until <= self._clock():
            return current  # nothing to extend: a bucket without Object Lock will do
        self._require_lock()
        self._client.put_object_retention(
            Bucket=self._bucket,
            Key=self._key(sha256),
            Retention={"Mode": "COMPLIANCE", "RetainUntilDate": until.astimezone(UTC)},
        )
        return wanted

    def hold(self, sha256: str, on: bool) -> BlobLock:
        current = self.lock(sha256)
        self._require_lock()
        self._client.put_object_legal_hold(
            Bucket=self._bucket,
            Key=self._key(sha256),
            LegalHold={"Status": "ON" if on else "OFF"},
        )
        return BlobLock(current.retain_until, legal_hold=on)

    def lock(self, sha256: str) -> BlobLock:
        head = self._head(sha256)
        return BlobLock(
            retain_until=head.get("ObjectLockRetainUntilDate"),
            legal_hold=head.get("ObjectLockLegalHoldStatus") == "ON",
        )

    def delete(self, sha256: str) -> bool:
        try:
            lock = self.lock(sha256)
        except BlobNotFound:
            return False
        self._ensure_deletable(sha256, lock)
        try:
            # Every version: on a versioned (Object Lock) bucket a plain delete would only
            # hide the bytes behind a delete marker.
            return self._remove_versions(self._key(sha256))
        except ClientError as exc:
            if _code(exc) == "AccessDenied":  # S3's own lock check, stricter than our clock
                raise BlobLocked(
                    sha256, retain_until=lock.retain_until, legal_hold=lock.legal_hold
                ) from exc
            raise

    # -- plumbing ------------------------------------------------------------------------

    def _key(self, sha256: str) -> str:
        return self._prefix + validate_key(sha256)

    def _head(self, sha256: str) -> HeadObjectOutputTypeDef:
        try:
            return self._client.head_object(Bucket=self._bucket, Key=self._key(sha256))
        except ClientError as exc:
            if _code(exc) in {"404", "NoSuchKey", "NotFound"}:
                raise BlobNotFound(sha256) from None
            raise

    def _open_raw(self, sha256: str, byte_range: str | None = None) -> BinaryIO:
        key = self._key(sha256)
        try:
            if byte_range is None:
                answer = self._client.get_object(Bucket=self._bucket, Key=key)
            else:
                answer = self._client.get_object(Bucket=self._bucket, Key=key, Range=byte_range)
        except ClientError as exc:
            if _code(exc) in {"404", "NoSuchKey", "NotFound"}:
                raise BlobNotFound(sha256) from None
            raise
        return cast(BinaryIO, answer["Body"])

    def _remove_versions(self, key: str) -> bool:
        """Delete every version and delete marker of exactly `key`; whether there was any."""
        removed = False
        pages = self._client.get_paginator("list_object_versions").paginate(
            Bucket=self._bucket, Prefix=key
        )
        for page in pages:
            for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                if entry["Key"] != key:
                    continue
                self._client.delete_object(
                    Bucket=self._bucket, Key=key, VersionId=entry["VersionId"]
                )
                removed = removed or entry in page.get("Versions", [])
        return removed

    def _require_lock(self) -> None:
        if self._lock_enabled is None:
            try:
                config = self._client.get_object_lock_configuration(Bucket=self._bucket)
                enabled = config["ObjectLockConfiguration"].get("ObjectLockEnabled")
                self._lock_enabled = enabled == "Enabled"
            except ClientError as exc:
                if _code(exc) != "ObjectLockConfigurationNotFoundError":
                    raise
                self._lock_enabled = False
        if not self._lock_enabled:
            raise LockUnavailable(
                f"le compartiment {self._bucket} n'a pas le verrouillage d'objets (Object Lock) "
                "activé : la conservation en écriture unique y est impossible. Créez le "
                "compartiment avec Object Lock."
            )


class _HashingStream(io.RawIOBase):
    """The concatenation of `head` and `rest`, hashed and counted as it is read."""

    def __init__(self, head: bytes | bytearray, rest: Iterator[bytes]) -> None:
        super().__init__()
        # A view with an offset, not slices: a large chunk read in small pieces is not
        # copied again for each piece.
        self._pending = memoryview(bytes(head))
        self._rest = rest
        self._hash = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        while not self._pending:
            try:
                self._pending = memoryview(bytes(next(self._rest)))
            except StopIteration:
                return 0
        n = min(len(view), len(self._pending))
        piece = self._pending[:n]
        view[:n] = piece
        self._hash.update(piece)
        self._pending = self._pending[n:]
        self.size += n
        return n

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _conflict(exc: ClientError) -> bool:
    """S3 answers 409 to a conditional write racing another on the same key: retry."""
    return _code(exc) in {"ConditionalRequestConflict", "409"}
