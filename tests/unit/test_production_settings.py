"""PARAPHE_ENV=production: every default that keeps state on one host or in one process is
refused at start, all at once, and a configuration fit for several machines is accepted."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import ConfigError, Settings
from tests.unit.instance_settings import settings_in


def _shared_env(tmp_path: Path) -> dict[str, str]:
    """A production configuration that several machines can share."""
    seal = tmp_path / "cachet.p12"
    seal.write_bytes(b"a PKCS#12 file")  # only its presence is checked at start
    return {
        "PARAPHE_ENV": "production",
        "PARAPHE_INSTANCE_DIR": str(tmp_path / "instance"),
        "PARAPHE_SECRET_KEY": "k" * 48,
        "DATABASE_URL": "postgresql://paraphe@db.interne/paraphe",
        "PARAPHE_QUEUE_URL": "redis://redis.interne:6379/1",
        "PARAPHE_BASE_URL": "https://contrats.exemple.fr",
        "PARAPHE_SMTP_URL": "smtp+starttls://paraphe:mdp@smtp.exemple.fr:587",
        "PARAPHE_SEAL_PKCS12": str(seal),
        "PARAPHE_STORAGE_URL": "s3://paraphe-documents",
        "PARAPHE_BACKUP_URL": "s3://paraphe-sauvegardes",
        "PARAPHE_BACKUP_KEYRING": str(tmp_path / "coffre" / "backup-keyring.json"),
    }


def _problems(env: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as info:
        Settings.from_env(env)
    return info.value.problems


def test_a_configuration_shared_by_every_machine_is_accepted(tmp_path: Path) -> None:
    settings = Settings.from_env(_shared_env(tmp_path))

    assert settings.production and settings.environment == "production"
    assert settings.database_backend == "postgresql"
    # Nothing was generated on this host: no per-installation secret.
    assert not (tmp_path / "instance" / "secret_key").exists()


def test_development_is_the_default(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)

    assert settings.environment == "development" and not settings.production
    explicit = Settings.from_env(
        {"PARAPHE_INSTANCE_DIR": str(tmp_path), "PARAPHE_ENV": "development"}
    )
    assert not explicit.production


def test_an_unknown_environment_is_refused(tmp_path: Path) -> None:
    (problem,) = _problems({"PARAPHE_INSTANCE_DIR": str(tmp_path), "PARAPHE_ENV": "prod"})
    assert problem.startswith("PARAPHE_ENV doit valoir « development »")


def test_production_lists_every_per_host_default_at_once(tmp_path: Path) -> None:
    # The embedded defaults, and rate limits counted per process (the default, the database,
    # is shared).
    problems = _problems(
        {
            "PARAPHE_ENV": "production",
            "PARAPHE_INSTANCE_DIR": str(tmp_path),
            "PARAPHE_RATELIMIT_STORAGE": "memory://",
        }
    )

    assert len(problems) == 10, problems
    for problem, names in zip(
        problems,
        (
            "PARAPHE_SECRET_KEY manque",
            "PARAPHE_SEAL_PKCS12 ou PARAPHE_SEAL_PKCS11_*",
            "DATABASE_URL désigne SQLite",
            "PARAPHE_QUEUE_URL vaut SQLite",
            "PARAPHE_RATELIMIT_STORAGE",
            "PARAPHE_BASE_URL doit commencer par https://",
            "(PARAPHE_STORAGE_URL=s3://…) ou, si ce dossier est un partage monté",
            "PARAPHE_BACKUP_URL manque",
            "le trousseau des sauvegardes (PARAPHE_BACKUP_KEYRING) serait dans le dossier",
            "PARAPHE_SMTP_URL manque",
        ),
        strict=True,
    ):
        assert problem.startswith("PARAPHE_ENV=production : ")
        assert names in problem
    # Refused before anything is written: no secret was generated for this host.
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"PARAPHE_SECRET_KEY": ""}, "PARAPHE_SECRET_KEY manque"),
        ({"PARAPHE_SECRET_KEY": "court"}, "PARAPHE_SECRET_KEY est trop courte"),
        ({"PARAPHE_SEAL_PKCS12": ""}, "PKI de développement"),
        ({"DATABASE_URL": "sqlite:////srv/paraphe.db"}, "DATABASE_URL désigne SQLite"),
        ({"PARAPHE_QUEUE_URL": "inline"}, "PARAPHE_QUEUE_URL vaut « inline »"),
        ({"PARAPHE_QUEUE_URL": "sqlite:////srv/queue.db"}, "PARAPHE_QUEUE_URL vaut SQLite"),
        ({"PARAPHE_RATELIMIT_STORAGE": "memory://"}, "PARAPHE_RATELIMIT_STORAGE=memory://"),
        ({"PARAPHE_BASE_URL": "http://contrats.exemple.fr"}, "https://"),
        ({"PARAPHE_SMTP_URL": ""}, "PARAPHE_SMTP_URL manque"),
        # Documents in a folder of this machine (PARAPHE_STORAGE_DIR or its default).
        ({"PARAPHE_STORAGE_URL": ""}, "les documents iraient dans un dossier de cette machine"),
        (
            {"PARAPHE_STORAGE_URL": "", "PARAPHE_STORAGE_DIR": "/srv/paraphe/blobs"},
            "PARAPHE_STORAGE_SHARED=1",
        ),
        ({"PARAPHE_STORAGE_SHARED": "oui"}, "PARAPHE_STORAGE_SHARED doit valoir 1"),
        # Backups on the disk they are meant to survive, and the only keys that decrypt them.
        ({"PARAPHE_BACKUP_URL": ""}, "PARAPHE_BACKUP_URL manque"),
        ({"PARAPHE_BACKUP_KEYRING": ""}, "PARAPHE_BACKUP_KEYRING_SHARED=1"),
        ({"PARAPHE_BACKUP_KEYRING_SHARED": "oui"}, "PARAPHE_BACKUP_KEYRING_SHARED doit valoir 1"),
    ],
)
def test_each_per_host_default_is_refused(
    tmp_path: Path, change: dict[str, str], expected: str
) -> None:
    env = _shared_env(tmp_path)
    Settings.from_env(env)  # the shared configuration itself is accepted

    (problem,) = _problems({**env, **change})

    assert problem.startswith("PARAPHE_ENV=production : ")
    assert expected in problem


def test_the_same_settings_are_accepted_in_development(tmp_path: Path) -> None:
    env = {
        "PARAPHE_INSTANCE_DIR": str(tmp_path),
        "PARAPHE_QUEUE_URL": "inline",
        "PARAPHE_RATELIMIT_STORAGE": "memory://",
    }
    assert not Settings.from_env(env).production


@pytest.mark.parametrize(
    "change",
    [
        # A staging deployment may seal with the development PKI if every machine shares it.
        {"PARAPHE_SEAL_PKCS12": "", "PARAPHE_PKI_DIR": "/srv/partage/pki"},
        {"PARAPHE_QUEUE_URL": "postgresql://paraphe@db.interne/paraphe"},
        {"PARAPHE_RATELIMIT_STORAGE": "redis://redis.interne:6379/2"},
        {"PARAPHE_SMTP_URL": "smtps://paraphe:mdp@smtp.exemple.fr:465"},
        # A document folder the operator declares mounted at the same path on every machine.
        {
            "PARAPHE_STORAGE_URL": "",
            "PARAPHE_STORAGE_DIR": "/srv/partage/blobs",
            "PARAPHE_STORAGE_SHARED": "1",
        },
    ],
)
def test_shared_alternatives_are_accepted(tmp_path: Path, change: dict[str, str]) -> None:
    assert Settings.from_env({**_shared_env(tmp_path), **change}).production


def test_backups_inside_the_instance_folder_are_refused(tmp_path: Path) -> None:
    env = _shared_env(tmp_path)
    instance = tmp_path / "instance"
    (target, keyring) = _problems(
        {
            **env,
            "PARAPHE_BACKUP_URL": str(instance / "copies"),
            "PARAPHE_BACKUP_KEYRING": str(instance / "cles" / "trousseau.json"),
        }
    )
    assert "PARAPHE_BACKUP_URL est dans le dossier de l'instance" in target
    assert "le trousseau des sauvegardes (PARAPHE_BACKUP_KEYRING) serait" in keyring
    # The live store's own folder is refused with the rest, not after it is fixed.
    storage = {"PARAPHE_STORAGE_URL": "", "PARAPHE_STORAGE_DIR": "/srv/partage/blobs"}
    problems = _problems({**env, **storage, "PARAPHE_BACKUP_URL": "/srv/partage/blobs/copies"})
    assert any("distinct du stockage des documents" in p for p in problems), problems
    assert any("PARAPHE_STORAGE_SHARED=1" in p for p in problems), problems


def test_a_keyring_in_the_instance_folder_may_be_declared(tmp_path: Path) -> None:
    env = {
        **_shared_env(tmp_path),
        "PARAPHE_BACKUP_KEYRING": "",
        "PARAPHE_BACKUP_KEYRING_SHARED": "1",
        "PARAPHE_BACKUP_URL": "/mnt/sauvegardes/paraphe",
    }
    settings = Settings.from_env(env)
    assert settings.backup.keyring_path == tmp_path / "instance" / "backup-keyring.json"


def test_a_seal_key_in_a_pkcs11_token_is_a_real_seal(tmp_path: Path) -> None:
    module = tmp_path / "libpkcs11.so"
    module.write_bytes(b"a PKCS#11 module")  # only its presence is checked at start
    env = {
        **_shared_env(tmp_path),
        "PARAPHE_SEAL_PKCS12": "",
        "PARAPHE_SEAL_PKCS11_MODULE": str(module),
        "PARAPHE_SEAL_PKCS11_TOKEN": "cachet",
        "PARAPHE_SEAL_PKCS11_PIN": "1234",
        "PARAPHE_SEAL_PKCS11_CERT_LABEL": "cachet",
    }
    assert Settings.from_env(env).seal_pkcs11_module == str(module)


def test_the_command_line_exits_2_with_every_production_problem(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from app.console import main

    # None unsets a variable the test process may have (DATABASE_URL on the PostgreSQL run).
    env: dict[str, str | None] = {key: None for key in _shared_env(tmp_path)}
    env |= {
        "PARAPHE_ENV": "production",
        "PARAPHE_INSTANCE_DIR": str(tmp_path),
        "PARAPHE_RATELIMIT_STORAGE": "memory://",
    }
    result = CliRunner().invoke(main, ["db", "check"], env=env)

    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("Configuration invalide :")
    assert result.stderr.count("PARAPHE_ENV=production : ") == 10


def test_the_webhooks_retry_scale_is_for_tests_only(tmp_path: Path) -> None:
    base = {"PARAPHE_INSTANCE_DIR": str(tmp_path)}
    assert Settings.from_env(base).webhooks_retry_scale == 1.0
    scaled = Settings.from_env({**base, "PARAPHE_WEBHOOKS_RETRY_SCALE": "0,01"})
    assert scaled.webhooks_retry_scale == 0.01
    for bad in ("0", "2", "-1", "vite"):
        (problem,) = _problems({**base, "PARAPHE_WEBHOOKS_RETRY_SCALE": bad})
        assert problem.startswith("PARAPHE_WEBHOOKS_RETRY_SCALE doit être un nombre")
    production = {**_shared_env(tmp_path), "PARAPHE_WEBHOOKS_RETRY_SCALE": "0.5"}
    (problem,) = _problems(production)
    assert "en production" in problem
