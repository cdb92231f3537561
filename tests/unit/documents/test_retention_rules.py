"""Retention rules: one pure function per question, durations from the policy."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from app.config import ConfigError, Settings
from app.documents.models import DocumentKind
from app.documents.retention import add_months, fiscal_year_end, is_due, retention_until
from app.retention_settings import RetentionPolicy

POLICY = RetentionPolicy()


def _until(kind: DocumentKind, created: str, terminated: str | None) -> date | None:
    return retention_until(
        kind,
        created_on=date.fromisoformat(created),
        terminated_on=date.fromisoformat(terminated) if terminated else None,
        policy=POLICY,
    )


def test_invoices_ten_years_after_the_fiscal_year_ends() -> None:
    assert _until(DocumentKind.INVOICE, "2026-03-15", None) == date(2036, 12, 31)
    assert _until(DocumentKind.CREDIT_NOTE, "2026-12-31", "2027-01-10") == date(2036, 12, 31)
    offset = replace(POLICY, fiscal_year_end_month=6, fiscal_year_end_day=30)
    until = retention_until(
        DocumentKind.INVOICE, created_on=date(2026, 7, 1), terminated_on=None, policy=offset
    )
    assert until == date(2037, 6, 30)
    assert fiscal_year_end(date(2026, 6, 30), offset) == date(2026, 6, 30)


def test_contracts_and_evidence_five_years_after_the_contract_ends() -> None:
    assert _until(DocumentKind.SIGNED_CONTRACT, "2024-01-05", None) is None
    assert _until(DocumentKind.SIGNED_CONTRACT, "2024-01-05", "2026-05-31") == date(2031, 5, 31)
    assert _until(DocumentKind.EVIDENCE, "2024-01-05", "2026-05-31") == date(2031, 5, 31)


def test_other_client_documents_six_months_after_termination() -> None:
    for kind in (DocumentKind.QUOTE, DocumentKind.CONTRACT, DocumentKind.RESTITUTION):
        assert _until(kind, "2024-01-05", None) is None
        assert _until(kind, "2024-01-05", "2026-08-31") == date(2027, 2, 28)
    assert _until(DocumentKind.CGV, "2024-01-05", "2026-08-31") is None
    assert _until(DocumentKind.DELETION_CERTIFICATE, "2024-01-05", "2026-08-31") is None


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)


def test_legal_hold_blocks_deletion() -> None:
    end = date(2026, 1, 1)
    assert not is_due(end, False, date(2026, 1, 1))  # the last day is still kept
    assert is_due(end, False, date(2026, 1, 2))
    assert not is_due(end, True, date(2030, 1, 1))
    assert not is_due(None, False, date(2030, 1, 1))


def test_policy_is_configured_from_the_environment(tmp_path: object) -> None:
    env = {
        "PARAPHE_INSTANCE_DIR": str(tmp_path),
        "PARAPHE_RETENTION_ACCOUNTING_YEARS": "11",
        "PARAPHE_RETENTION_CONTRACT_YEARS": "6",
        "PARAPHE_RETENTION_CLIENT_DATA_MONTHS": "3",
        "PARAPHE_FISCAL_YEAR_END": "03-31",
        "PARAPHE_RETENTION_CGV_PREVIEW_DAYS": "45",
    }
    policy = Settings.from_env(env).retention
    assert policy == RetentionPolicy(
        accounting_years=11,
        contract_years=6,
        client_data_months=3,
        fiscal_year_end_month=3,
        fiscal_year_end_day=31,
        cgv_preview_days=45,
    )
    with pytest.raises(ConfigError) as bad:
        Settings.from_env(
            {
                "PARAPHE_INSTANCE_DIR": str(tmp_path),
                "PARAPHE_RETENTION_CONTRACT_YEARS": "cinq",
                "PARAPHE_FISCAL_YEAR_END": "02-30",
                "PARAPHE_RETENTION_CGV_PREVIEW_DAYS": "0",
            }
        )
    assert len(bad.value.problems) == 3
