"""The PARAPHE_BACKUP_* settings: defaults beside the instance, and every mistake that would
make a backup useless (the live store as target, the keyring inside the target, a malformed
key) refused at start, all listed at once."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from app.config import ConfigError
from tests.unit.instance_settings import settings_in


def test_defaults_keep_backups_and_keyring_in_the_instance(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    assert settings.backup.url == str(tmp_path / "backups")
    assert settings.backup.keyring_path == tmp_path / "backup-keyring.json"
    assert settings.backup.dump_key is None
    assert (settings.backup.interval_hours, settings.backup.keep_daily) == (24, 7)
    assert (settings.backup.keep_weekly, settings.backup.keep_monthly) == (4, 12)


def test_a_dump_key_is_read_and_never_shown(tmp_path: Path) -> None:
    key = bytes(range(32))
    settings = settings_in(
        tmp_path,
        PARAPHE_BACKUP_KEY=base64.b64encode(key).decode(),
        PARAPHE_BACKUP_INTERVAL_HOURS="6",
    )
    assert settings.backup.dump_key == key
    assert settings.backup.interval_hours == 6
    assert base64.b64encode(key).decode() not in repr(settings.backup)
    assert str(key) not in repr(settings.backup)


def test_every_useless_backup_setting_is_refused_at_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        settings_in(
            tmp_path,
            PARAPHE_BACKUP_URL=str(tmp_path / "blobs" / "copies"),
            PARAPHE_BACKUP_KEYRING=str(tmp_path / "blobs" / "copies" / "keys.json"),
            PARAPHE_BACKUP_KEY="trop-court",
            PARAPHE_BACKUP_KEEP_DAILY="-1",
        )
    problems = "\n".join(refused.value.problems)
    assert "dossier distinct du stockage des documents" in problems
    assert "une clé gardée à côté des données ne protège rien" in problems
    assert "PARAPHE_BACKUP_KEY : 32 octets en base64" in problems
    assert "PARAPHE_BACKUP_KEEP_DAILY" in problems


@pytest.mark.parametrize(
    "target", ["s3://archives/prod/", "s3://archives/prod/copies", "s3://archives"]
)
def test_an_s3_target_must_not_overlap_the_live_bucket(tmp_path: Path, target: str) -> None:
    with pytest.raises(ConfigError) as refused:
        settings_in(tmp_path, PARAPHE_STORAGE_URL="s3://archives/prod", PARAPHE_BACKUP_URL=target)
    assert "PARAPHE_BACKUP_URL doit différer du stockage des documents" in str(refused.value)


def test_another_prefix_of_the_same_bucket_is_a_distinct_target(tmp_path: Path) -> None:
    settings = settings_in(
        tmp_path,
        PARAPHE_STORAGE_URL="s3://archives/prod",
        PARAPHE_BACKUP_URL="s3://archives/sauvegardes",
    )
    assert settings.backup.url == "s3://archives/sauvegardes"
