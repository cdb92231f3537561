"""Write-once retention and legal hold: the same rule on the three stores.

Memory and filesystem stores follow a clock the test moves; the S3 store is held to the
same assertions by moto's Object Lock (a bucket created with ObjectLockEnabledForBucket),
whose clock is the real one, so its "retention has ended" case waits two seconds."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage import (
    UNLOCKED,
    BlobLock,
    BlobLocked,
    BlobNotFound,
    BlobStore,
    FilesystemBlobStore,
    InvalidKey,
    MemoryBlobStore,
    S3BlobStore,
    S3Location,
)
from tests.s3_server import new_bucket, s3_client

CONTRACT = b"%PDF-1.7\nContrat signe, conserve cinq ans\n%%EOF\n"
ABSENT = "0" * 64


@dataclass
class Clock:
    """The stores' clock, moved by the test (S3's server keeps the real one)."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Locked:
    store: BlobStore
    clock: Clock
    kind: str

    def pass_time_beyond(self, moment: datetime) -> None:
        if self.kind == "s3":
            time.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()) + 1.1)
        self.clock.now = moment + timedelta(seconds=1)


@pytest.fixture(params=["memory", "filesystem", "s3"])
def locked(request: pytest.FixtureRequest, tmp_path: Path) -> Locked:
    clock = Clock()
    if request.param == "memory":
        return Locked(MemoryBlobStore(clock=clock), clock, "memory")
    if request.param == "filesystem":
        return Locked(FilesystemBlobStore(tmp_path / "blobs", clock=clock), clock, "filesystem")
    client = s3_client(request.getfixturevalue("s3_endpoint"))
    location = S3Location(new_bucket(client, lock=True))
    return Locked(S3BlobStore(client, location, clock=datetime_now), clock, "s3")


def datetime_now() -> datetime:
    return datetime.now(UTC)


def test_a_new_blob_has_no_lock(locked: Locked) -> None:
    ref = locked.store.put(CONTRACT)

    assert locked.store.lock(ref.sha256) == UNLOCKED


def test_a_retained_blob_cannot_be_deleted_before_the_end(locked: Locked) -> None:
    store = locked.store
    ref = store.put(CONTRACT)
    until = locked.clock.now + timedelta(days=5 * 365)

    assert store.retain(ref.sha256, until) == BlobLock(retain_until=until)

    with pytest.raises(BlobLocked) as refused:
        store.delete(ref.sha256)
    assert refused.value.retain_until == until
    assert refused.value.legal_hold is False
    assert until.date().isoformat() in str(refused.value)
    assert store.get(ref.sha256) == CONTRACT
    assert store.lock(ref.sha256).retain_until == until


def test_retention_is_extended_never_shortened(locked: Locked) -> None:
    store = locked.store
    ref = store.put(CONTRACT)
    first = locked.clock.now + timedelta(days=30)
    later = first + timedelta(days=365)

    store.retain(ref.sha256, first)
    assert store.retain(ref.sha256, later).retain_until == later
    assert store.retain(ref.sha256, first).retain_until == later

    assert store.lock(ref.sha256).retain_until == later


def test_a_legal_hold_forbids_deletion_until_released(locked: Locked) -> None:
    store = locked.store
    ref = store.put(CONTRACT)

    assert store.hold(ref.sha256, True) == BlobLock(legal_hold=True)
    with pytest.raises(BlobLocked) as refused:
        store.delete(ref.sha256)
    assert refused.value.legal_hold is True
    assert refused.value.retain_until is None
    assert "gel juridique" in str(refused.value)

    assert store.hold(ref.sha256, False) == UNLOCKED
    assert store.delete(ref.sha256) is True
    assert not store.exists(ref.sha256)


def test_a_legal_hold_outlasts_the_retention(locked: Locked) -> None:
    store = locked.store
    ref = store.put(CONTRACT)
    until = locked.clock.now + timedelta(seconds=2)
    store.retain(ref.sha256, until)
    store.hold(ref.sha256, True)

    locked.pass_time_beyond(until)

    with pytest.raises(BlobLocked):
        store.delete(ref.sha256)
    store.hold(ref.sha256, False)
    assert store.delete(ref.sha256) is True


def test_once_the_retention_has_ended_the_blob_can_be_deleted(locked: Locked) -> None:
    store = locked.store
    ref = store.put(CONTRACT)
    until = locked.clock.now + timedelta(seconds=2)
    store.retain(ref.sha256, until)

    locked.pass_time_beyond(until)

    assert store.delete(ref.sha256) is True
    assert not store.exists(ref.sha256)
    assert list(store.iter_keys()) == []
    # Stored again, it starts with no lock: the retention belonged to the deleted blob.
    store.put(CONTRACT)
    assert store.lock(ref.sha256) == UNLOCKED


def test_locks_of_a_missing_or_malformed_key(locked: Locked) -> None:
    store = locked.store
    until = locked.clock.now + timedelta(days=1)
    calls: tuple[Callable[[str], object], ...] = (
        lambda key: store.lock(key),
        lambda key: store.retain(key, until),
        lambda key: store.hold(key, True),
    )
    for call in calls:
        with pytest.raises(BlobNotFound):
            call(ABSENT)
        with pytest.raises(InvalidKey):
            call("../" + "a" * 61)


def test_a_naive_retention_end_is_refused(locked: Locked) -> None:
    ref = locked.store.put(CONTRACT)

    with pytest.raises(ValueError, match="timezone"):
        locked.store.retain(ref.sha256, datetime(2030, 1, 1))  # noqa: DTZ001 - the point


def test_a_locked_blob_can_still_be_stored_again(locked: Locked) -> None:
    store = locked.store
    ref = store.put(CONTRACT)
    store.retain(ref.sha256, locked.clock.now + timedelta(days=1))

    assert store.put(CONTRACT) == ref
    assert store.put_stream([CONTRACT[:10], CONTRACT[10:]]) == ref
    assert store.get(hashlib.sha256(CONTRACT).hexdigest()) == CONTRACT
