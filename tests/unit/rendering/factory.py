"""Builders of contract documents for the rendering tests (no database, no Flask app)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from app.rendering.contract_document import (
    ContractDocument,
    ParticularTerm,
    Party,
    QuoteLineView,
    Signer,
    VatBreakdown,
)
from app.rendering.pdf import FetchAttempt
from tests.shared_fixtures import CGV_FIXTURE as CGV_FIXTURE  # read at test time, never copied

HOSTILE_CLIENT_NAME = "<script>alert(1)</script>"
HOSTILE_STRINGS = (
    "<script>alert(1)</script>",
    "{{ 7*7 }}",
    '<img src="http://evil/x.png">',
    "url(file:///etc/passwd)",
)
CENT = Decimal("0.01")

# The parties of every built contract (the rendering tests' and the benches').
VENDOR = Party(
    legal_name="QUANTOS EVOLUTION",
    siren="799001391",
    vat_number="FR12799001391",
    address_lines=("19 rue Émile Duclaux", "75015 Paris"),
    representative_name="Jean Dupont",
    representative_email="jean.dupont@dendreo.example",
    representative_title="Président",
)
CLIENT = Party(
    legal_name="Laboratoires Curie SAS",
    siren="123456789",
    vat_number=None,
    address_lines=("1 place Bellecour", "69002 Lyon"),
    representative_name="Marie Curie",
    representative_email="marie.curie@client.example",
)
CLIENT_SIGNER = Signer("Marie Curie", "marie.curie@client.example", "Pour le Client")


def _cent(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def priced_lines(
    count: int = 20, *, designation: str = "Module {i} — abonnement mensuel", unit: str = ""
) -> dict[str, Any]:
    """`count` quote lines at two VAT rates (5.5 % every fifth line, a decimal quantity every
    seventh) and their totals, as the fields of a `ContractDocument` (the rendering tests and
    the benches print the same kind of proposal)."""
    lines = []
    for i in range(1, count + 1):
        quantity = Decimal(i % 4 + 1) if i % 7 else Decimal("2.5")
        unit_price = _cent(Decimal("1234.50") * i / 7)
        lines.append(
            QuoteLineView(
                position=i,
                designation=designation.format(i=i),
                quantity=quantity,
                unit_price=unit_price,
                vat_rate=Decimal("5.5") if i % 5 == 0 else Decimal("20"),
                total_excl_vat=_cent(quantity * unit_price),
                unit=unit,
            )
        )
    bases: dict[Decimal, Decimal] = {}
    for line in lines:
        bases[line.vat_rate] = bases.get(line.vat_rate, Decimal("0")) + line.total_excl_vat
    breakdown = tuple(
        VatBreakdown(rate=rate, base=base, vat=_cent(base * rate / 100))
        for rate, base in sorted(bases.items(), reverse=True)
    )
    total_excl = sum((b.base for b in breakdown), Decimal("0"))
    total_vat = sum((b.vat for b in breakdown), Decimal("0"))
    return {
        "lines": tuple(lines),
        "total_excl_vat": total_excl,
        "vat_breakdown": breakdown,
        "total_vat": total_vat,
        "total_incl_vat": total_excl + total_vat,
    }


def build_document(cgv_text: str, /, **changes: Any) -> ContractDocument:
    """A realistic contract: 20 quote lines at two VAT rates, two particular terms."""
    values: dict[str, Any] = {
        "contract_number": "CTR-2026-0001",
        "version": 1,
        "generated_at": datetime(2026, 1, 15, 13, 5, tzinfo=UTC),
        "vendor": VENDOR,
        # Hostile strings where the template prints the client's own words.
        "client": replace(
            CLIENT,
            legal_name=HOSTILE_CLIENT_NAME,
            address_lines=("1 place {{ 7*7 }}", "69002 Lyon"),
        ),
        "quote_number": "DEV-2026-0042",
        "quote_date": date(2026, 1, 10),
        "quote_valid_until": date(2026, 3, 1),
        "particular_terms": (
            ParticularTerm(
                "Durée et reconduction",
                'Engagement de 12 mois, renouvelable par "tacite reconduction" !\n\n'
                "Préavis : 3 mois par lettre recommandée.",
                markdown=True,  # a library clause: Markdown, French typography
            ),
            ParticularTerm("Clause de test", "\n\n".join(HOSTILE_STRINGS)),
        ),
        "cgv_label": "2.2",
        "cgv_effective_date": date(2022, 9, 4),
        "cgv_markdown": cgv_text,
        "cgv_sha256": sha256_text(cgv_text),
        "signers": (
            Signer("Jean Dupont", "jean.dupont@dendreo.example", "Pour QUANTOS EVOLUTION"),
            CLIENT_SIGNER,
        ),
    }
    values.update(priced_lines())
    values.update(changes)
    return ContractDocument(**values)


@dataclass(frozen=True)
class RenderedContract:
    document: ContractDocument
    pdf: bytes
    fetches: tuple[FetchAttempt, ...]
    seconds: float
