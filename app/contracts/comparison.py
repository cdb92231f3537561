"""Comparing two versions of a contract: what each printed, as a snapshot, then the diff."""

from __future__ import annotations

from app.contracts import rules
from app.contracts.errors import ContractNotFound
from app.contracts.models import Contract, ContractVersion
from app.contracts.printing import discount_label
from app.messages import msg
from app.quotes.commercial_terms import describe_terms
from app.quotes.services import terms_of, totals_of
from app.rendering.french import format_amount, format_date, format_quantity


def snapshot(version: ContractVersion) -> rules.VersionSnapshot:
    quote = version.printed_quote
    totals = totals_of(quote)
    return rules.VersionSnapshot(
        version=version.version,
        quote_number=quote.number,
        lines=tuple(
            rules.LineSnapshot(
                designation=line.designation,
                quantity=format_quantity(line.quantity, line.unit or ""),
                unit_price=format_amount(line.unit_price),
                discount=discount_label(line.discount_kind, line.discount_value),
                total_excl_vat=format_amount(total),
            )
            for line, total in zip(quote.lines, totals.line_totals, strict=True)
        ),
        total_excl_vat=format_amount(totals.total_excl_vat),
        total_vat=format_amount(totals.total_vat),
        total_incl_vat=format_amount(totals.total_incl_vat),
        terms=describe_terms(terms_of(quote)),
        clauses=(
            *(
                (("Conditions particulières", quote.particular_terms),)
                if quote.particular_terms
                else ()
            ),
            *((c.title, c.body_markdown) for c in version.clauses),
        ),
        cgv=f"{version.cgv_version.label} du {format_date(version.cgv_version.effective_date)}",
        precedence=tuple(version.precedence.split("|")),
    )


def compare_versions(contract: Contract, first: int, second: int) -> list[rules.Change]:
    by_number = {v.version: v for v in contract.versions}
    if first not in by_number or second not in by_number:
        raise ContractNotFound(
            msg(
                "Le contrat {contract_number} n'a pas ces versions.",
                contract_number=contract.number,
            )
        )
    return rules.diff(snapshot(by_number[first]), snapshot(by_number[second]))
