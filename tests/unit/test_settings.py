"""Settings are validated at start and every problem is explained at once."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from app.config import ConfigError, Settings
from tests.unit.instance_settings import settings_in


def test_embedded_defaults(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    assert settings.database_url == f"sqlite:///{tmp_path / 'paraphe.db'}"
    assert settings.storage_dir == tmp_path / "blobs"
    assert settings.outbox_dir == tmp_path / "outbox"
    assert settings.smtp_url is None and settings.tsa_url is None
    # the per-installation secret is created once, private, and reused
    secret_file = tmp_path / "secret_key"
    assert secret_file.stat().st_mode & 0o777 == 0o600
    assert settings_in(tmp_path).secret_key == settings.secret_key


def test_postgres_url_uses_psycopg3(tmp_path: Path) -> None:
    settings = settings_in(tmp_path, DATABASE_URL="postgresql://u:p@db/paraphe")
    assert settings.database_url == "postgresql+psycopg://u:p@db/paraphe"
    assert settings.database_backend == "postgresql"


def test_every_problem_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        settings_in(
            tmp_path,
            DATABASE_URL="mysql://x",
            PARAPHE_BASE_URL="ftp://x",
            PARAPHE_SMTP_URL="imap://x",
            PARAPHE_SEAL_PKCS12=str(tmp_path / "absent.p12"),
            PARAPHE_SIGNING_LINK_DAYS="zéro",
        )
    message = str(info.value)
    assert len(info.value.problems) == 5
    for fragment in (
        "DATABASE_URL",
        "PARAPHE_BASE_URL",
        "PARAPHE_SMTP_URL",
        "PARAPHE_SEAL_PKCS12",
        "PARAPHE_SIGNING_LINK_DAYS",
    ):
        assert fragment in message


def test_secret_never_in_repr(tmp_path: Path) -> None:
    settings = settings_in(
        tmp_path, PARAPHE_SECRET_KEY="très-secret-123", PARAPHE_SEAL_PKCS12_PASSWORD="p12-secret"
    )
    assert "très-secret-123" not in repr(settings)
    assert "p12-secret" not in repr(settings)


@pytest.mark.parametrize("raw", ["-1", "un", "6", "1.5"])
def test_trusted_proxies_must_be_a_small_count(tmp_path: Path, raw: str) -> None:
    with pytest.raises(ConfigError) as info:
        settings_in(tmp_path, PARAPHE_TRUSTED_PROXIES=raw)
    assert "PARAPHE_TRUSTED_PROXIES" in str(info.value)


def test_trusted_proxies_default_to_none(tmp_path: Path) -> None:
    assert settings_in(tmp_path).trusted_proxies == 0
    assert settings_in(tmp_path, PARAPHE_TRUSTED_PROXIES="1").trusted_proxies == 1


def test_access_log_is_on_unless_turned_off(tmp_path: Path) -> None:
    base = {"PARAPHE_INSTANCE_DIR": str(tmp_path)}
    assert Settings.from_env(base).access_log is True
    assert Settings.from_env({**base, "PARAPHE_ACCESS_LOG": "non"}).access_log is False
    with pytest.raises(ConfigError) as info:
        Settings.from_env({**base, "PARAPHE_ACCESS_LOG": "parfois"})
    assert "PARAPHE_ACCESS_LOG" in str(info.value)


def test_vendor_bank_details_are_normalised(tmp_path: Path) -> None:
    settings = settings_in(
        tmp_path,
        PARAPHE_VENDOR_IBAN="fr14 2004 1010 0505 0001 3m02 606",
        PARAPHE_VENDOR_BIC=" psstfrpp ",
        PARAPHE_VENDOR_VAT_ON_DEBITS="oui",
    )
    assert settings.vendor.iban == "FR1420041010050500013M02606"
    assert settings.vendor.bic == "PSSTFRPP"
    assert settings.vendor.vat_on_debits is True
    exempt = settings_in(
        tmp_path, PARAPHE_VAT_EXEMPTION_REASON=" TVA non\n applicable, art. 293 B du CGI "
    )
    assert exempt.vendor.vat_exemption_reason == "TVA non applicable, art. 293 B du CGI"
    default = settings_in(tmp_path).vendor
    assert (default.iban, default.bic, default.vat_on_debits) == (
        "FR7630006000011234567890189",
        None,
        False,
    )


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("PARAPHE_VENDOR_IBAN", "FR76 3000 6000 0112 3456 7890 188", "PARAPHE_VENDOR_IBAN"),
        ("PARAPHE_VENDOR_IBAN", "FR76 3000", "PARAPHE_VENDOR_IBAN"),
        ("PARAPHE_VENDOR_IBAN", "", "PARAPHE_VENDOR_IBAN"),
        ("PARAPHE_VENDOR_BIC", "AGRIFRP", "PARAPHE_VENDOR_BIC"),
        ("PARAPHE_VENDOR_VAT_ON_DEBITS", "peut-être", "PARAPHE_VENDOR_VAT_ON_DEBITS"),
        ("PARAPHE_VAT_EXEMPTION_REASON", "  ", "PARAPHE_VAT_EXEMPTION_REASON"),
        ("PARAPHE_VAT_EXEMPTION_REASON", "x" * 201, "PARAPHE_VAT_EXEMPTION_REASON"),
    ],
)
def test_vendor_bank_details_are_checked(tmp_path: Path, name: str, raw: str, message: str) -> None:
    """A wrong check digit would send every client's transfer to the wrong account."""
    with pytest.raises(ConfigError) as info:
        settings_in(tmp_path, **{name: raw})
    assert len(info.value.problems) == 1 and info.value.problems[0].startswith(message)


def test_a_timestamp_authority_needs_a_real_seal_certificate(tmp_path: Path) -> None:
    """With a TSA the seal is B-LTA: the development seal, which publishes no revocation
    information, would fail at every seal. The configuration is refused at start instead."""
    env = {"PARAPHE_INSTANCE_DIR": str(tmp_path), "PARAPHE_TSA_URL": "http://tsa.example/"}
    with pytest.raises(ConfigError) as info:
        Settings.from_env(env)
    (problem,) = info.value.problems
    assert problem.startswith("PARAPHE_TSA_URL demande un vrai certificat de cachet")
    assert "PARAPHE_SEAL_PKCS12" in problem and "révocation" in problem

    p12 = tmp_path / "cachet.p12"
    p12.write_bytes(b"a PKCS#12 file")  # only its presence is checked at start
    settings = Settings.from_env({**env, "PARAPHE_SEAL_PKCS12": str(p12)})
    assert settings.tsa_url == "http://tsa.example/"
    assert settings_in(tmp_path).tsa_url is None


def test_the_command_line_exits_2_on_a_tsa_with_the_development_seal(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from app.console import main

    result = CliRunner().invoke(
        main,
        ["db", "check"],
        env={
            "PARAPHE_INSTANCE_DIR": str(tmp_path),
            "PARAPHE_TSA_URL": "http://tsa.example/",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'paraphe.db'}",
            "PARAPHE_SEAL_PKCS12": "",
            "PARAPHE_SEAL_PKCS11_MODULE": "",
        },
    )
    assert result.exit_code == 2, result.output
    assert "Configuration invalide" in result.stderr
    assert "PARAPHE_TSA_URL demande un vrai certificat de cachet" in result.stderr


def test_vendor_legal_identity_is_read_and_normalised(tmp_path: Path) -> None:
    """C. com. R123-237: legal form, share capital and RCS, printed on every invoice; the RCS
    mention as printed, held by no-break spaces (a city of two words too)."""
    default = settings_in(tmp_path).vendor
    assert (default.legal_form, default.share_capital, default.rcs) == (
        "SAS",
        Decimal("10000.00"),
        "RCS\u00a0Paris\u00a0732\u00a0829\u00a0320",  # as printed: never broken across lines
    )
    vendor = settings_in(
        tmp_path,
        PARAPHE_VENDOR_SIREN="552100554",
        PARAPHE_VENDOR_LEGAL_FORM=" SARL  unipersonnelle ",
        PARAPHE_VENDOR_SHARE_CAPITAL="37 500,5",
        PARAPHE_VENDOR_RCS_CITY="Aix-en-Provence",
    ).vendor
    assert (vendor.legal_form, vendor.share_capital, vendor.rcs) == (
        "SARL unipersonnelle",
        Decimal("37500.50"),
        "RCS\u00a0Aix-en-Provence\u00a0552\u00a0100\u00a0554",
    )
    two_words = settings_in(tmp_path, PARAPHE_VENDOR_RCS_CITY="Le Mans").vendor
    assert two_words.rcs == "RCS\u00a0Le\u00a0Mans\u00a0732\u00a0829\u00a0320"


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("PARAPHE_VENDOR_LEGAL_FORM", ""),
        ("PARAPHE_VENDOR_LEGAL_FORM", "S"),
        ("PARAPHE_VENDOR_LEGAL_FORM", "SAS\x1b[31m"),
        ("PARAPHE_VENDOR_SHARE_CAPITAL", "dix mille"),
        ("PARAPHE_VENDOR_SHARE_CAPITAL", "0"),
        ("PARAPHE_VENDOR_SHARE_CAPITAL", "-100"),
        ("PARAPHE_VENDOR_SHARE_CAPITAL", "100.005"),
        ("PARAPHE_VENDOR_SHARE_CAPITAL", "NaN"),
        ("PARAPHE_VENDOR_SHARE_CAPITAL", "1e20"),
        ("PARAPHE_VENDOR_RCS_CITY", ""),
        ("PARAPHE_VENDOR_RCS_CITY", "75002"),
        ("PARAPHE_VENDOR_SIREN", "732829321"),
    ],
)
def test_vendor_legal_identity_is_checked(tmp_path: Path, name: str, raw: str) -> None:
    with pytest.raises(ConfigError) as info:
        settings_in(tmp_path, **{name: raw})
    assert len(info.value.problems) == 1 and info.value.problems[0].startswith(name)


def test_a_bad_legal_identity_stops_the_command_with_exit_2(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PARAPHE_INSTANCE_DIR": str(tmp_path),
        "PARAPHE_VENDOR_SHARE_CAPITAL": "beaucoup",
        "PARAPHE_VENDOR_RCS_CITY": "",
    }
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", "from app.console import main; main()", "db", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "PARAPHE_VENDOR_SHARE_CAPITAL : le capital social en euros" in done.stderr
    assert "PARAPHE_VENDOR_RCS_CITY : la ville du greffe" in done.stderr


def test_rate_limits_are_shared_by_default_and_checked(tmp_path: Path) -> None:
    base = {"PARAPHE_INSTANCE_DIR": str(tmp_path)}
    # The database by default: counted once for every `paraphe serve` worker.
    assert Settings.from_env(base).ratelimit_storage_uri == "database"
    redis = Settings.from_env({**base, "PARAPHE_RATELIMIT_STORAGE": "redis://127.0.0.1:6379/0"})
    assert redis.ratelimit_storage_uri == "redis://127.0.0.1:6379/0"
    with pytest.raises(ConfigError) as info:
        Settings.from_env({**base, "PARAPHE_RATELIMIT_STORAGE": "mongodb://x"})
    assert "PARAPHE_RATELIMIT_STORAGE doit valoir « database »" in str(info.value)


def test_reminders_are_capped_at_three_unless_set(tmp_path: Path) -> None:
    base = {"PARAPHE_INSTANCE_DIR": str(tmp_path)}
    assert Settings.from_env(base).reminder_max == 3
    assert Settings.from_env({**base, "PARAPHE_REMINDER_MAX": "0"}).reminder_max == 0
    for raw in ("-1", "11", "trois"):
        with pytest.raises(ConfigError) as info:
            Settings.from_env({**base, "PARAPHE_REMINDER_MAX": raw})
        assert "PARAPHE_REMINDER_MAX doit être un entier entre 0 et 10" in str(info.value)
