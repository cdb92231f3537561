"""The per-installation secret key of the embedded default (no PARAPHE_SECRET_KEY): created
once in the instance folder and read by every process that starts there afterwards."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path

SECRET_FILE = "secret_key"  # noqa: S105 - the name of the file, not a secret


def instance_secret(instance_dir: Path) -> str:
    """The secret in `instance_dir/secret_key`, created on first use.

    Several processes may start at once on a fresh instance (`.ci/start` runs a server and a
    worker): each writes a candidate to its own temporary file, then hard-links it to the
    final name. A link never replaces an existing file, so the first process to link wins,
    the others find the file there and read it: every process signs with the same key, and
    no reader ever sees a half-written one. Nothing secret ever sits in the repository."""
    path = instance_dir / SECRET_FILE
    if path.exists():
        return path.read_text().strip()
    instance_dir.mkdir(parents=True, exist_ok=True)
    # mkstemp creates the file 0600: the secret is never readable by others, not even briefly.
    fd, tmp = tempfile.mkstemp(dir=instance_dir, prefix=f".{SECRET_FILE}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
            fh.flush()
            os.fsync(fh.fileno())
        # FileExistsError: another process linked its candidate first; that key is the one.
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        os.unlink(tmp)
    return path.read_text().strip()
