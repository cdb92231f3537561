"""What changed between two contract versions, in words sales can read."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LineSnapshot:
    designation: str
    quantity: str
    unit_price: str
    discount: str
    total_excl_vat: str


@dataclass(frozen=True)
class VersionSnapshot:
    """A version as printed, amounts already formatted (``1 234,56 €``)."""

    version: int
    quote_number: str
    lines: tuple[LineSnapshot, ...]
    total_excl_vat: str
    total_vat: str
    total_incl_vat: str
    terms: tuple[str, ...]
    clauses: tuple[tuple[str, str], ...]  # (title, text as printed)
    cgv: str  # "2.2 du 4 septembre 2022"
    precedence: tuple[str, ...]


@dataclass(frozen=True)
class Change:
    section: str  # "Lignes", "Montants", "Clauses", "CGV", ...
    before: str  # "" when added
    after: str  # "" when removed


def _line_text(line: LineSnapshot) -> str:
    discount = f", remise {line.discount}" if line.discount else ""
    return (
        f"{line.designation} : {line.quantity} × {line.unit_price}{discount} "
        f"= {line.total_excl_vat} HT"
    )


def _pair_changes(section: str, before: dict[str, str], after: dict[str, str]) -> list[Change]:
    changes = []
    for key in before.keys() | after.keys():
        old, new = before.get(key, ""), after.get(key, "")
        if old != new:
            changes.append(Change(section, old, new))
    return sorted(changes, key=lambda c: (c.before == "", c.before, c.after))


def diff(a: VersionSnapshot, b: VersionSnapshot) -> list[Change]:
    """Changes from ``a`` to ``b``: lines matched by designation, clauses by title."""
    changes: list[Change] = []
    if a.quote_number != b.quote_number:
        changes.append(Change("Proposition commerciale", a.quote_number, b.quote_number))
    changes += _pair_changes(
        "Lignes",
        {line.designation: _line_text(line) for line in a.lines},
        {line.designation: _line_text(line) for line in b.lines},
    )
    for label, old, new in (
        ("Total HT", a.total_excl_vat, b.total_excl_vat),
        ("Total TVA", a.total_vat, b.total_vat),
        ("Total TTC", a.total_incl_vat, b.total_incl_vat),
    ):
        if old != new:
            changes.append(Change("Montants", f"{label} {old}", f"{label} {new}"))
    if a.terms != b.terms:
        changes += _pair_changes(
            "Conditions commerciales",
            {t: t for t in a.terms if t not in b.terms},
            {t: t for t in b.terms if t not in a.terms},
        )
    changes += _pair_changes(
        "Clauses",
        {title: f"{title} : {text}" for title, text in a.clauses},
        {title: f"{title} : {text}" for title, text in b.clauses},
    )
    if a.cgv != b.cgv:
        changes.append(Change("CGV", f"version {a.cgv}", f"version {b.cgv}"))
    if a.precedence != b.precedence:
        changes.append(
            Change("Ordre de priorité", " > ".join(a.precedence), " > ".join(b.precedence))
        )
    return changes
