"""What only the filesystem store must guarantee: layout, permissions, crash safety."""

from __future__ import annotations

import errno
import hashlib
import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import storage
from storage import BlobLock, BlobLocked, FilesystemBlobStore, StorageError

CONTRACT = b"%PDF-1.7\nContrat de prestation, version signee\n%%EOF\n"
CONTRACT_SHA256 = hashlib.sha256(CONTRACT).hexdigest()
REPO_ROOT = Path(storage.__file__).resolve().parents[1]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "blobs"


@pytest.fixture
def store(root: Path) -> FilesystemBlobStore:
    return FilesystemBlobStore(root)


def blob_path(root: Path, sha256: str) -> Path:
    return root / sha256[:2] / sha256[2:4] / sha256


def temp_files(root: Path) -> list[Path]:
    return list((root / ".tmp").iterdir())


def fan_out_dirs(root: Path) -> list[Path]:
    return [p for p in root.iterdir() if p.name != ".tmp"]


def test_blobs_are_laid_out_by_two_levels_of_prefix(store: FilesystemBlobStore, root: Path) -> None:
    store.put(CONTRACT)

    assert blob_path(root, CONTRACT_SHA256).read_bytes() == CONTRACT
    assert temp_files(root) == []


def test_stored_files_are_read_only(store: FilesystemBlobStore, root: Path) -> None:
    store.put(CONTRACT)
    streamed = store.put_stream([b"annexe ", b"tarifaire"])

    for sha256 in (CONTRACT_SHA256, streamed.sha256):
        assert stat.S_IMODE(blob_path(root, sha256).stat().st_mode) == 0o444


def test_putting_again_never_rewrites_the_file(store: FilesystemBlobStore, root: Path) -> None:
    store.put(CONTRACT)
    before = blob_path(root, CONTRACT_SHA256).stat()

    store.put(CONTRACT)
    store.put_stream([CONTRACT])

    after = blob_path(root, CONTRACT_SHA256).stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert temp_files(root) == []


def test_a_failed_install_leaves_nothing_behind(
    store: FilesystemBlobStore, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_link(src: object, dst: object) -> None:
        raise OSError(errno.EIO, "simulated I/O error")

    with monkeypatch.context() as patch:
        patch.setattr(os, "link", failing_link)
        with pytest.raises(OSError, match="simulated"):
            store.put(CONTRACT)

    assert not store.exists(CONTRACT_SHA256)
    assert list(store.iter_keys()) == []
    assert temp_files(root) == []
    assert store.put(CONTRACT).sha256 == CONTRACT_SHA256
    assert store.get(CONTRACT_SHA256) == CONTRACT


@pytest.mark.real_clock  # sweeps a file whose mtime is the kernel's, not the tests' clock
def test_a_writer_killed_midway_leaves_no_blob(store: FilesystemBlobStore, root: Path) -> None:
    writer = textwrap.dedent(
        """
        import sys, time
        from storage import FilesystemBlobStore

        def chunks():
            yield b"x" * (4 * 1024 * 1024)
            print("written", flush=True)
            time.sleep(60)
            yield b"never reached"

        FilesystemBlobStore(sys.argv[1]).put_stream(chunks())
        """
    )
    with subprocess.Popen(
        [sys.executable, "-c", writer, str(root)], cwd=REPO_ROOT, stdout=subprocess.PIPE
    ) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"written\n"
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL

    assert list(store.iter_keys()) == []
    assert fan_out_dirs(root) == []
    assert len(temp_files(root)) == 1
    assert store.sweep_temp(older_than_seconds=0) == 1
    assert temp_files(root) == []
    assert store.put(CONTRACT).sha256 == CONTRACT_SHA256
    assert list(store.iter_keys()) == [CONTRACT_SHA256]


def test_sweep_temp_removes_only_old_temporary_files(
    store: FilesystemBlobStore, root: Path
) -> None:
    old, fresh = root / ".tmp" / "put-old", root / ".tmp" / "put-fresh"
    old.write_bytes(b"abandoned")
    fresh.write_bytes(b"in progress")
    # Both times from the process's clock, not the kernel's write time: the sweep compares
    # them with time.time(), and the two differ when the tests' clock is moved (.ci/timetravel).
    now = time.time()
    os.utime(fresh, (now, now))
    os.utime(old, (now - 7200, now - 7200))

    assert store.sweep_temp(older_than_seconds=3600) == 1

    assert temp_files(root) == [fresh]


@pytest.mark.real_clock  # sweeps a file whose mtime is the kernel's, not the tests' clock
def test_a_write_swept_in_flight_fails_without_storing(
    store: FilesystemBlobStore, root: Path
) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"slow upload"
        store.sweep_temp(older_than_seconds=-1)
        yield b" resumed"

    with pytest.raises(StorageError, match="vanished"):
        store.put_stream(chunks())

    assert list(store.iter_keys()) == []
    assert temp_files(root) == []


def test_iter_keys_ignores_what_is_not_a_blob(store: FilesystemBlobStore, root: Path) -> None:
    store.put(CONTRACT)
    leaf = blob_path(root, CONTRACT_SHA256).parent
    (leaf / "notes.txt").write_text("operator scribbles")
    misplaced = "ff" * 32
    (leaf / misplaced).write_bytes(b"not where its key says")
    (root / "zz").mkdir()
    (root / ".tmp" / "put-pending").write_bytes(b"half")

    assert list(store.iter_keys()) == [CONTRACT_SHA256]


def test_concurrent_puts_leave_no_temporary_files(store: FilesystemBlobStore, root: Path) -> None:
    data = os.urandom(256 * 1024)
    start = threading.Barrier(8)

    def put(_: int) -> str:
        start.wait()
        return store.put_stream([data]).sha256

    with ThreadPoolExecutor(max_workers=8) as pool:
        keys = set(pool.map(put, range(8)))

    assert keys == {hashlib.sha256(data).hexdigest()}
    assert temp_files(root) == []
    assert stat.S_IMODE(blob_path(root, keys.pop()).stat().st_mode) == 0o444


def test_open_reader_is_not_seekable(store: FilesystemBlobStore) -> None:
    store.put(CONTRACT)

    with store.open(CONTRACT_SHA256) as reader:
        assert not reader.seekable()
        assert reader.read() == CONTRACT


def test_racing_writers_never_rewrite_the_stored_file(
    store: FilesystemBlobStore, root: Path
) -> None:
    """The first writer wins and nobody rewrites its file, even in a race. Tested here only:
    moto checks `If-None-Match: *` and then writes without a lock, so two racing conditional
    puts can both succeed there (real S3 answers 412 or 409 to all but one)."""
    data = os.urandom(64 * 1024)
    first = store.put(data)
    before = blob_path(root, first.sha256).stat()
    start = threading.Barrier(20)

    def put(n: int) -> str:
        start.wait()
        return (store.put(data) if n % 2 else store.put_stream([data])).sha256

    with ThreadPoolExecutor(max_workers=20) as pool:
        assert set(pool.map(put, range(20))) == {first.sha256}

    after = blob_path(root, first.sha256).stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_a_lock_is_kept_beside_the_blob_for_every_process(
    store: FilesystemBlobStore, root: Path
) -> None:
    ref = store.put(CONTRACT)
    until = datetime.now(UTC) + timedelta(days=10)
    store.retain(ref.sha256, until)
    store.hold(ref.sha256, True)

    sidecar = blob_path(root, ref.sha256).with_name(ref.sha256 + ".lock")
    assert sidecar.is_file()
    assert FilesystemBlobStore(root).lock(ref.sha256) == BlobLock(until, legal_hold=True)
    assert list(store.iter_keys()) == [ref.sha256]
    assert list((root / ".tmp").iterdir()) == []
    with pytest.raises(BlobLocked):
        FilesystemBlobStore(root).delete(ref.sha256)
