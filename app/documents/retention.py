"""Retention rules, in one place (see shared/docs/domain.md for the legal sources).

Pure: the durations come from `RetentionPolicy` (Settings, environment), the dates from the
caller. A retention end is the last day a document must be kept; it may be deleted the day
after. `None` means "not known yet" (the contract has not ended) or "kept as long as needed"
(a CGV version that acceptances refer to).
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta

from app.clock import PARIS
from app.documents.models import DocumentKind
from app.retention_settings import RetentionPolicy

ACCOUNTING = frozenset({DocumentKind.INVOICE, DocumentKind.CREDIT_NOTE})
CONTRACTUAL = frozenset({DocumentKind.SIGNED_CONTRACT, DocumentKind.EVIDENCE})
CLIENT_DATA = frozenset({DocumentKind.QUOTE, DocumentKind.CONTRACT, DocumentKind.RESTITUTION})


def add_months(day: date, months: int) -> date:
    """`day` plus whole months, clamped to the end of a shorter month (31 Aug + 6 → 28 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def fiscal_year_end(day: date, policy: RetentionPolicy) -> date:
    """The last day of the fiscal year that contains `day`."""
    month, dom = policy.fiscal_year_end_month, policy.fiscal_year_end_day
    end = date(day.year, month, dom)
    return end if day <= end else date(day.year + 1, month, dom)


def retention_basis(kind: DocumentKind, policy: RetentionPolicy | None = None) -> str:
    p = policy or RetentionPolicy()
    if kind in ACCOUNTING:
        return f"{p.accounting_years} ans après la clôture de l'exercice (C. com. L123-22)"
    if kind in CONTRACTUAL:
        return f"{p.contract_years} ans après la fin du contrat (C. com. L110-4, C. civ. 2224)"
    if kind in CLIENT_DATA:
        return f"{p.client_data_months} mois après la résiliation (CGV : suppression des données)"
    if kind is DocumentKind.DELETION_CERTIFICATE:
        # Purging it would call for a certificate of its own, and so on, every few years.
        return "conservé : preuve de la suppression (RGPD art. 5.2, responsabilité)"
    return "conservées tant qu'une acceptation y renvoie"


def retention_until(
    kind: DocumentKind,
    *,
    created_on: date,
    terminated_on: date | None,
    policy: RetentionPolicy,
) -> date | None:
    """The retention end of a document created on `created_on` (business date) for a client
    terminated on `terminated_on` (None while the client is active).

    The contract end is the client's termination date (one contract per client for now)."""
    if kind in ACCOUNTING:
        end = fiscal_year_end(created_on, policy)
        return add_months(end, 12 * policy.accounting_years)
    if terminated_on is None:
        return None
    if kind in CONTRACTUAL:
        return add_months(terminated_on, 12 * policy.contract_years)
    if kind in CLIENT_DATA:
        return add_months(terminated_on, policy.client_data_months)
    return None


def is_due(retention_end: date | None, legal_hold: bool, today: date) -> bool:
    """Whether a document may be deleted today: its retention has ended and no hold blocks it."""
    return retention_end is not None and retention_end < today and not legal_hold


def lock_end(retention_end: date) -> datetime:
    """The instant the store's write-once lock of a document kept until `retention_end` may
    end: midnight in Paris after that last day, when `is_due` starts to say yes (the purge
    compares business dates, which are Paris dates)."""
    return datetime.combine(retention_end + timedelta(days=1), time(0), PARIS).astimezone(UTC)
