"""The blob store the settings describe: the filesystem under PARAPHE_STORAGE_DIR (default),
or an S3-compatible bucket when PARAPHE_STORAGE_URL is s3://… . Built once per process, by
`create_app` or a worker, and by `paraphe storage migrate` for its target."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.config import Settings
from storage import BlobStore, FilesystemBlobStore, S3Location

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from storage.s3 import S3BlobStore


def build_store(settings: Settings) -> BlobStore:
    if settings.storage_url is None:
        return FilesystemBlobStore(settings.storage_dir)
    return s3_store(
        settings.storage_url, endpoint_url=settings.s3_endpoint_url, region=settings.s3_region
    )


def s3_store(url: str, *, endpoint_url: str | None, region: str | None) -> S3BlobStore:
    """The S3 store at `url` (s3://bucket[/prefix]); credentials from the AWS_* variables or
    the machine's role, as boto3 finds them."""
    # Imported on use: boto3 costs half a second to every process, and most use the disk.
    from storage.s3 import S3BlobStore

    return S3BlobStore(s3_client(endpoint_url, region), S3Location.parse(url))


def s3_client(endpoint_url: str | None, region: str | None) -> S3Client:
    import boto3
    from botocore.config import Config

    # A session per client: boto3's default session is not thread-safe to create clients
    # from, and the client itself is shared by every thread of the process.
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region,
        config=Config(
            retries={"max_attempts": 5, "mode": "standard"},
            # The store sends its own SHA-256 on PutObject and re-hashes every read.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )
