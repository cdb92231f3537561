"""The opposable-version rule, pure: every client of the shared history at every date."""

from __future__ import annotations

from datetime import date

import pytest

from app.terms import rules
from tests.unit.terms.history import CLIENTS, EXPECTED, VERSIONS

IDS = {label: i for i, label in enumerate(VERSIONS, start=1)}
FACTS = [
    rules.VersionFacts(id=IDS[label], label=label, kind=kind, effective_date=effective)
    for label, (kind, effective) in VERSIONS.items()
]


def client_facts(name: str) -> rules.ClientFacts:
    data = CLIENTS[name]
    accepted: dict[int, list[date]] = {}
    for label, on in data["accepted"]:  # type: ignore[attr-defined]
        accepted.setdefault(IDS[label], []).append(on)
    notified = {IDS[label]: on for label, on in data["notified"].items()}  # type: ignore[attr-defined]
    return rules.ClientFacts(accepted_on=accepted, notified_on=notified)


@pytest.mark.parametrize(("name", "at", "expected"), EXPECTED)
def test_opposable_version(name: str, at: date, expected: str | None) -> None:
    found = rules.opposable_version(FACTS, client_facts(name), at)
    assert (found.label if found else None) == expected


def test_the_reason_says_how_the_version_binds() -> None:
    version, reason = rules.how_bound(FACTS, client_facts("B"), date(2025, 1, 1))
    assert version is not None and version.label == "2.1"
    assert "notifiée" in reason
    version, reason = rules.how_bound(FACTS, client_facts("B"), date(2024, 8, 1))
    assert version is not None and version.label == "2.0"
    assert "acceptée" in reason


def test_latest_material_and_order() -> None:
    latest = rules.latest_material(FACTS, date(2025, 6, 1))
    assert latest is not None and latest.label == "2.0"
    assert rules.latest_material(FACTS, date(2024, 5, 31)) is None
    assert rules.is_older(None, FACTS[0])
    assert rules.is_older(FACTS[0], FACTS[1])
    assert not rules.is_older(FACTS[2], FACTS[1])


def test_the_minor_notification_says_whether_it_will_bind() -> None:
    from types import SimpleNamespace

    from app.terms.planning import _minor_would_bind

    v21 = SimpleNamespace(id=IDS["2.1"], effective_date=date(2025, 1, 1))
    today = date(2024, 12, 1)
    assert _minor_would_bind(FACTS, client_facts("B"), v21, today)  # type: ignore[arg-type]
    assert not _minor_would_bind(FACTS, client_facts("A"), v21, today)  # type: ignore[arg-type]
    assert not _minor_would_bind(FACTS, client_facts("E"), v21, today)  # type: ignore[arg-type]
