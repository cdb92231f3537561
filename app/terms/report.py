"""The opposability report: for every client active on the day (a termination taking effect
later does not end it yet), the CGV version that binds it, and how many accepted each version."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clients.models import Client, active_on
from app.terms import rules
from app.terms.acceptances import client_facts, version_facts
from app.terms.models import CgvVersion


@dataclass(frozen=True)
class ReportRow:
    client: Client
    version: CgvVersion | None
    reason: str
    bound_by_latest_material: bool


@dataclass(frozen=True)
class Acceptance:
    """One bar of the chart: the active clients that accepted a version by the day."""

    label: str
    accepted: int
    clients: int  # every active client: the bar's full length

    @property
    def share(self) -> float:
        return self.accepted / self.clients if self.clients else 0.0


@dataclass(frozen=True)
class OpposabilityReport:
    at: date
    rows: list[ReportRow]
    counts: list[tuple[str, int]]  # version label (or "aucune") → active clients bound by it
    latest_material: CgvVersion | None
    acceptance: list[Acceptance]  # per version in force on the day, the latest first

    @property
    def not_bound(self) -> list[ReportRow]:
        return [r for r in self.rows if not r.bound_by_latest_material]

    @property
    def max_count(self) -> int:
        return max((n for _, n in self.counts), default=0)


NO_VERSION = "aucune"


def opposability_report(session: Session, at: date) -> OpposabilityReport:
    """For every active client, the version that binds it on `at`; counts per version; and
    whether it is bound by the latest material version in force."""
    facts = version_facts(session)
    by_id = {v.id: v for v in session.scalars(select(CgvVersion))}
    clients = session.scalars(
        select(Client).where(active_on(at)).order_by(Client.legal_name, Client.id)
    ).all()
    per_client = client_facts(session, [c.id for c in clients])
    material = rules.latest_material(facts, at)
    rows: list[ReportRow] = []
    tally: dict[int | None, int] = {}
    for client in clients:
        found, reason = rules.how_bound(facts, per_client[client.id], at)
        bound = material is None or (found is not None and not rules.is_older(found, material))
        rows.append(ReportRow(client, by_id[found.id] if found else None, reason, bound))
        key = found.id if found else None
        tally[key] = tally.get(key, 0) + 1
    ordered = sorted(facts, key=lambda v: (v.effective_date, v.id), reverse=True)
    counts = [(v.label, tally[v.id]) for v in ordered if v.id in tally]
    if None in tally:
        counts.append((NO_VERSION, tally[None]))
    acceptance = [
        Acceptance(
            v.label,
            sum(
                any(day <= at for day in per_client[c.id].accepted_on.get(v.id, ()))
                for c in clients
            ),
            len(clients),
        )
        for v in ordered
        if v.effective_date <= at
    ]
    return OpposabilityReport(
        at=at,
        rows=rows,
        counts=counts,
        latest_material=by_id[material.id] if material else None,
        acceptance=acceptance,
    )
