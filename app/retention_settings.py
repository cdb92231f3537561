"""The retention periods (PARAPHE_RETENTION_*, PARAPHE_FISCAL_YEAR_END), checked with the rest
of `app.config.Settings` at start; apart so that config.py stays readable. The rules that
apply them are in app/documents/retention.py."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date


@dataclass(frozen=True)
class RetentionPolicy:
    """How long documents are kept (the rules themselves live in app.documents.retention).

    Defaults follow French law: accounting documents 10 years after the fiscal year ends
    (C. com. L123-22), contracts and their evidence 5 years after the contract ends (C. com.
    L110-4, C. civ. 2224), other client data 6 months after termination (our CGV)."""

    accounting_years: int = 10
    contract_years: int = 5
    client_data_months: int = 6
    sent_mail_days: int = 90
    """The outbox's rows of sent mails (bodies, attachments): kept this long for support and
    resending questions, then deleted by the purge (the audit journal keeps the facts)."""
    fiscal_year_end_month: int = 12
    fiscal_year_end_day: int = 31
    cgv_preview_days: int = 30
    """CGV previews never published (drafts legal abandoned, each with its text and PDF):
    deleted by the daily purge once this old; a published one is kept with its version."""


def retention_policy(env: Mapping[str, str], problems: list[str]) -> RetentionPolicy:
    default = RetentionPolicy()
    values: dict[str, int] = {}
    for name, attr, low, high in (
        ("PARAPHE_RETENTION_ACCOUNTING_YEARS", "accounting_years", 1, 50),
        ("PARAPHE_RETENTION_CONTRACT_YEARS", "contract_years", 1, 50),
        ("PARAPHE_RETENTION_CLIENT_DATA_MONTHS", "client_data_months", 0, 120),
        ("PARAPHE_RETENTION_SENT_MAIL_DAYS", "sent_mail_days", 1, 3650),
        ("PARAPHE_RETENTION_CGV_PREVIEW_DAYS", "cgv_preview_days", 1, 3650),
    ):
        raw = env.get(name)
        if raw is None or raw == "":
            continue
        if raw.isdigit() and low <= int(raw) <= high:
            values[attr] = int(raw)
        else:
            problems.append(f"{name} doit être un entier entre {low} et {high}")
    fiscal = env.get("PARAPHE_FISCAL_YEAR_END")
    if fiscal:
        try:
            month, day = (int(part) for part in fiscal.split("-"))
            date(2023, month, day)  # a non-leap year: 02-29 cannot end every fiscal year
            values["fiscal_year_end_month"] = month
            values["fiscal_year_end_day"] = day
        except ValueError:
            problems.append("PARAPHE_FISCAL_YEAR_END doit être une date MM-JJ (ex. 12-31)")
    return replace(default, **values)
