"""Where an S3 store keeps its blobs, parsed from `s3://bucket/optional/prefix`.

Apart from `storage.s3` so that checking a setting does not import boto3 (half a second)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True, slots=True)
class S3Location:
    """A bucket and a key prefix ("" or ending with "/"), from `s3://bucket/optional/prefix`."""

    bucket: str
    prefix: str = ""

    @classmethod
    def parse(cls, url: str) -> S3Location:
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
            raise ValueError(f"not an s3://bucket[/prefix] URL: {url!r}")
        prefix = parts.path.strip("/")
        return cls(bucket=parts.netloc, prefix=prefix + "/" if prefix else "")

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"
