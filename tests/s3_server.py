"""A real S3-compatible server on loopback for the tests: moto's standalone server (HTTP,
in a thread of the test process), one per session; each test gets fresh buckets.

What moto honours (checked against its source, moto 5.2): `If-None-Match: *` on PutObject
and CompleteMultipartUpload (412 when the key exists), Object Lock on delete of a version
(legal hold, COMPLIANCE retention). What it does not: it never refuses to shorten a
COMPLIANCE retention, and its check-then-write of a conditional put is not atomic against a
concurrent one. The tests that need those two rules run on the filesystem store only."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.literals import BucketLocationConstraintType

REGION: BucketLocationConstraintType = "eu-west-3"
# moto accepts any credentials; given explicitly, so no AWS_* variable of the machine is read.
CREDENTIALS = {"aws_access_key_id": "paraphe-test", "aws_secret_access_key": "paraphe-test"}


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    # Imported here: moto and boto3 take ~2 s to import, which a session without S3 tests
    # (this module is a plugin of every session) should not pay.
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def s3_client(endpoint: str) -> S3Client:
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        config=Config(retries={"max_attempts": 2, "mode": "standard"}),
        aws_access_key_id=CREDENTIALS["aws_access_key_id"],
        aws_secret_access_key=CREDENTIALS["aws_secret_access_key"],
    )


def new_bucket(client: S3Client, *, lock: bool) -> str:
    """A fresh bucket; with Object Lock (hence versioning) when `lock`."""
    name = f"paraphe-{uuid.uuid4().hex[:16]}"
    client.create_bucket(
        Bucket=name,
        CreateBucketConfiguration={"LocationConstraint": REGION},
        ObjectLockEnabledForBucket=lock,
    )
    return name
