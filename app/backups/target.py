"""Where backups go: a folder or an S3 prefix, distinct from the live store. Two parts:
`blobs/`, a content-addressed store of the encrypted copies (and the dumps), shared by every
backup so that each copies only what the target lacks; `manifests/`, one sealed manifest per
backup, written last: a backup exists once its manifest does, so a run killed midway leaves
only unreferenced copies behind, which the next run reuses."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from app.storage_config import s3_client
from storage import BlobStore, FilesystemBlobStore, S3Location

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MANIFEST_SUFFIX = ".json"
SEAL_SUFFIX = ".json.p7s"


class Manifests(Protocol):
    """Small named files (manifests and their seals) at the target."""

    def write(self, name: str, data: bytes) -> None:
        """Write `name` whole or not at all."""
        ...

    def read(self, name: str) -> bytes | None: ...

    def names(self) -> list[str]:
        """Every name, ascending."""
        ...

    def delete(self, name: str) -> None: ...


@dataclass(frozen=True)
class BackupTarget:
    url: str
    blobs: BlobStore
    manifests: Manifests


class FolderManifests:
    def __init__(self, root: Path) -> None:
        self._root = root
        root.mkdir(parents=True, exist_ok=True)

    def write(self, name: str, data: bytes) -> None:
        temporary = self._root / f".{name}.{os.getpid()}.tmp"
        with temporary.open("wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        # The rename is the commit: a reader sees the old state or the whole new file.
        os.replace(temporary, self._root / name)

    def read(self, name: str) -> bytes | None:
        try:
            return (self._root / name).read_bytes()
        except FileNotFoundError:
            return None

    def names(self) -> list[str]:
        return sorted(p.name for p in self._root.iterdir() if not p.name.startswith("."))

    def delete(self, name: str) -> None:
        (self._root / name).unlink(missing_ok=True)


class S3Manifests:
    def __init__(self, client: S3Client, bucket: str, prefix: str) -> None:
        self._client = client
        self._bucket = bucket
        self._prefix = prefix

    def write(self, name: str, data: bytes) -> None:
        # A PutObject is atomic: the object appears whole once the upload completes.
        self._client.put_object(Bucket=self._bucket, Key=self._prefix + name, Body=data)

    def read(self, name: str) -> bytes | None:
        try:
            response = self._client.get_object(Bucket=self._bucket, Key=self._prefix + name)
        except self._client.exceptions.NoSuchKey:
            return None
        body: bytes = response["Body"].read()
        return body

    def names(self) -> list[str]:
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self._bucket, Prefix=self._prefix
        )
        return sorted(
            item["Key"][len(self._prefix) :] for page in pages for item in page.get("Contents", [])
        )

    def delete(self, name: str) -> None:
        self._client.delete_object(Bucket=self._bucket, Key=self._prefix + name)


def open_target(url: str, *, endpoint_url: str | None, region: str | None) -> BackupTarget:
    if url.startswith("s3://"):
        from storage.s3 import S3BlobStore  # boto3 only for an S3 target (half a second)

        location = S3Location.parse(url)
        client = s3_client(endpoint_url, region)
        blobs = S3BlobStore(client, S3Location(location.bucket, location.prefix + "blobs/"))
        manifests = S3Manifests(client, location.bucket, location.prefix + "manifests/")
        return BackupTarget(url, blobs, manifests)
    root = Path(url)
    return BackupTarget(
        url, FilesystemBlobStore(root / "blobs"), FolderManifests(root / "manifests")
    )
