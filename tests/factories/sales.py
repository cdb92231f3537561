"""What precedes a signature: CGV, clients, catalogue, clauses, quotes and contracts, built
through the services (fast, no HTTP) so that a test exercises HTTP only where it asserts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import Flask

from app.clauses.models import Clause
from app.clauses.services import create_clause
from app.clients.services import ClientInput, create_client, get_client
from app.contracts.generation import generate_contract
from app.contracts.printing import Countersigner
from app.db import transaction, utcnow
from app.pricing.lines import LineInput
from app.quotes.models import ProductKind
from app.quotes.services import ProductInput, create_product, create_quote, get_quote
from app.terms.models import VersionKind
from app.terms.versions import publish_version
from tests.factories.db import runtime

# A short CGV keeps contract rendering well under a second.
SHORT_CGV = (
    "# Conditions générales de vente\n\n"
    "## Article 1. Objet\n\n"
    "Les présentes conditions régissent l'abonnement au service.\n\n"
    "## Article 2. Prix\n\n"
    "Les prix sont ceux de la proposition commerciale.\n"
)

VALID_CLIENT: dict[str, str] = {
    "legal_name": "Boulangerie Lefèvre & Fils",
    "siren": "552100554",
    "vat_number": "FR96552100554",
    "address": "3 place de la Bourse",
    "postal_code": "69002",
    "city": "Lyon",
    "signer_name": "Zoë Martin",
    "signer_email": "zoe@example.fr",
}

# The catalogue form filled in validly, as an admin types it (French decimal comma).
VALID_PRODUCT: dict[str, str] = {
    "code": "FORMATION-J",
    "kind": "training",
    "name": "Journée de formation",
    "unit": "jour",
    "unit_price": "650,00",
    "vat_rate": "20",
}


def publish_cgv(app: Flask, body: str, label: str = "2.2", effective: str = "2022-09-04") -> None:
    with transaction(runtime(app).session_factory) as session:
        publish_version(
            session,
            label=label,
            title="Conditions générales de vente",
            effective_date=date.fromisoformat(effective),
            body_markdown=body,
            summary="",
            kind=VersionKind.MATERIAL,
            now=utcnow(),
            actor="test",
        )


def publish_short_cgv(app: Flask) -> None:
    publish_cgv(app, SHORT_CGV, label="3.0", effective="2024-01-01")


def make_client(app: Flask, **overrides: str) -> int:
    data = {**VALID_CLIENT, **overrides}
    with transaction(runtime(app).session_factory) as session:
        # Tests often need several clients of one company: the duplicate warning has its own
        # tests (test_client_identity), so fixtures confirm it.
        client = create_client(
            session, ClientInput(**data), actor="test", now=utcnow(), confirm_duplicate=True
        )
        return client.id


def make_product(app: Flask, code: str = "PREMIUM", price: str = "100.00", vat: str = "20") -> int:
    with transaction(runtime(app).session_factory) as session:
        product = create_product(
            session,
            ProductInput(
                code, ProductKind.PLAN, "Abonnement Premium", "mois", Decimal(price), Decimal(vat)
            ),
            now=utcnow(),
            actor="test",
        )
        return product.id


def make_clause(
    app: Flask, title: str = "Réversibilité", body: str = "{{ client_name }} récupère ses données."
) -> int:
    with transaction(runtime(app).session_factory) as session:
        clause = create_clause(
            session, title=title, body=body, now=utcnow(), actor="test", author_id=None
        )
        return clause.id


def make_quote(
    app: Flask,
    client_id: int,
    *,
    particular_terms: str = "",
    lines: list[LineInput] | None = None,
) -> int:
    lines = lines or [
        LineInput("Abonnement Premium (12 mois)", Decimal("12"), Decimal("100.00"), Decimal("20"))
    ]
    with transaction(runtime(app).session_factory) as session:
        now = utcnow()
        quote = create_quote(
            session,
            client=get_client(session, client_id),
            lines=lines,
            particular_terms=particular_terms,
            today=now.date(),
            now=now,
            actor="test",
        )
        return quote.id


def quote_ready_for_contract(app: Flask) -> int:
    """The short CGV in force published and a new client's quote: what a contract is asked
    from. The quote's id."""
    publish_short_cgv(app)
    return make_quote(app, make_client(app))


def make_contract(
    app: Flask,
    quote_id: int,
    countersigner: Countersigner | None = None,
    *,
    clause_ids: Sequence[int] = (),
    free_text: str = "",
) -> int:
    """Generate version 1; with a `Countersigner`, the vendor signs after the client.
    `clause_ids`: library clauses printed in it (their latest version); `free_text`: the free
    particular terms."""
    rt = runtime(app)
    with transaction(rt.session_factory) as session:
        version = generate_contract(
            session,
            rt.store,
            quote=get_quote(session, quote_id),
            vendor=rt.settings.vendor,
            now=utcnow(),
            actor="test",
            author_id=None,
            countersigner=countersigner,
            clauses=[session.get_one(Clause, clause_id).latest for clause_id in clause_ids],
            free_text=free_text,
        )
        return version.contract_id


@dataclass(frozen=True)
class Contracted:
    """A client with a quote turned into a contract (version 1, generated, not yet sent)."""

    client_id: int
    quote_id: int
    contract_id: int


def make_contracted_client(app: Flask, **client_overrides: str) -> Contracted:
    client_id = make_client(app, **client_overrides)
    quote_id = make_quote(app, client_id)
    return Contracted(client_id, quote_id, make_contract(app, quote_id))
