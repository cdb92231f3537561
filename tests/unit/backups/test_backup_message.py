"""The line a finished backup is reported with: real French plurals, never « (s) »."""

from __future__ import annotations

from app.backups.services import Done
from app.backups.workflow import BackupOutcome

NBSP = "\u00a0"


def test_a_finished_backup_says_its_counts_in_words() -> None:
    one = BackupOutcome(Done("b-1", blobs=1, copied=0, copied_bytes=0, manifest_sha256="0" * 64))
    assert one.message == (
        f"Sauvegarde b-1 terminée : 1{NBSP}document, 0{NBSP}copié (0{NBSP}octet), "
        "les autres déjà présents à la cible."
    )
    many = BackupOutcome(
        Done("b-2", blobs=1200, copied=3, copied_bytes=20480, manifest_sha256="0" * 64)
    )
    assert many.message == (
        f"Sauvegarde b-2 terminée : 1\u202f200{NBSP}documents, 3{NBSP}copiés "
        f"(20\u202f480{NBSP}octets), les autres déjà présents à la cible."
    )
