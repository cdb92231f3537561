"""The demo's journey, so that an evaluator has something to follow from the first start: a
quote for the demo client, its contract (version 1) and the signature request that invites the
client's signer. Each step goes through the service or workflow the sales pages use (the quote
form's service, the generation job's `fulfil`, the send button's workflow), so the demo shows
what the product does, evidence included, and never a row made by hand.

Each step runs only if the database does not hold its result yet: a second `paraphe demo` finds
the quote, the contract and the request, and makes or mails nothing more. Nothing here signs:
the evaluator signs from the invitation, on their phone, as a client would."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.clauses.models import Clause
from app.clients.models import Client
from app.clock import business_date
from app.contracts import requested
from app.contracts.models import ContractGeneration, GenerationStatus
from app.contracts.queries import contract_made_from, get_contract
from app.db import transaction
from app.demo.invitation import invitation_line
from app.errors import DomainError
from app.messages import msg
from app.pricing.lines import LineInput
from app.quotes.models import Product, Quote
from app.quotes.services import create_quote
from app.runtime import Collaborators
from app.signatures import tasks as signature_tasks
from app.signatures import workflow as signatures
from app.signatures.revisions import requests_for_contract
from signing import SigningError

log = logging.getLogger(__name__)

DEMO_SIREN = "552100554"
"""The demo client's: the journey is made for it, never for a client an operator created."""

SALES_EMAIL = "commercial@demo.paraphe.fr"
"""The demo salesperson: author of the quote and of the contract, the vendor's countersigner."""

QUOTE_LINES = (("ESSENTIEL", "12"), ("MES", "1"), ("FORM-J", "1"))
"""(catalogue code, quantity): a plan over the 12-month commitment, the setup fee, a training
day; each line takes the product's name, unit, price and VAT rate, as the quote form does."""

PARTICULAR_TERMS = (
    "Mise en service sous 15 jours ouvrés à compter de la signature du contrat.\n"
    "La journée de formation se tient dans les locaux du client, à Lyon, à une date convenue "
    "entre les parties."
)


@dataclass(frozen=True)
class Quoted:
    """The demo quote and what its contract is generated with."""

    quote_id: int
    author_id: int
    clause_version_ids: tuple[int, ...]


def seed_journey(c: Collaborators) -> list[str]:
    """The quote, the contract and its signature request, each only if missing; the lines to
    print (where the invitation is, or why the journey stops short)."""
    with transaction(c.session_factory) as session:
        quoted = _quote(session, c)
    if isinstance(quoted, str):
        return [quoted]
    contract_id = _contract(c, quoted)
    if isinstance(contract_id, str):
        return [contract_id]
    refused = _send(c, contract_id, quoted.author_id)
    if refused:
        return [refused]
    where = invitation_line(c, contract_id)
    return [where] if where else []


def _quote(session: Session, c: Collaborators) -> Quoted | str:
    client = session.scalar(select(Client).where(Client.siren == DEMO_SIREN).order_by(Client.id))
    author = session.scalar(select(User).where(User.email == SALES_EMAIL))
    clause = session.scalar(select(Clause).order_by(Clause.id).limit(1))
    if client is None or author is None:
        return msg(
            "Pas de devis de démonstration : le client de démonstration (SIREN {siren}) ou le "
            "compte commercial {email} n'existe pas dans cette base.",
            siren=DEMO_SIREN,
            email=SALES_EMAIL,
        )
    # The oldest quote of the demo client is the demo's: the ones an evaluator adds come after.
    quote = session.scalar(
        select(Quote).where(Quote.client_id == client.id).order_by(Quote.id).limit(1)
    )
    if quote is None:
        try:
            quote = create_quote(
                session,
                client=client,
                lines=_lines(session),
                particular_terms=PARTICULAR_TERMS,
                today=business_date(c.now),
                now=c.now,
                actor=f"user:{author.id}",
                created_by_id=author.id,
            )
        except DomainError as exc:  # a catalogue emptied by an administrator: no line left
            return msg("Pas de devis de démonstration : {problem}", problem=exc.detail)
    clauses = (clause.latest.id,) if clause is not None else ()
    return Quoted(quote.id, author.id, clauses)


def _lines(session: Session) -> list[LineInput]:
    products = {
        p.code: p
        for p in session.scalars(
            select(Product).where(Product.code.in_([code for code, _ in QUOTE_LINES]))
        )
    }
    return [
        LineInput(
            designation=products[code].name,
            quantity=Decimal(quantity),
            unit_price=products[code].unit_price,
            vat_rate=products[code].vat_rate,
            unit=products[code].unit,
            product_id=products[code].id,
        )
        for code, quantity in QUOTE_LINES
        if code in products  # a catalogue an administrator changed: the lines it still has
    ]


def _contract(c: Collaborators, quoted: Quoted) -> int | str:
    """The contract of the demo quote: the one that exists, else version 1 asked for and
    rendered as the sales page's job does. A generation that failed is said, not retried: its
    cause (a CGV missing, a quote expired) is for the operator to see."""
    with transaction(c.session_factory) as session:
        contract = contract_made_from(session, quoted.quote_id)
        if contract is not None:
            return contract.id
        failed = _failed_generation(session, quoted.quote_id)
        if failed is not None:
            return _not_generated(failed)
        try:
            asked = requested.ask_first_version(
                session,
                session.get_one(Quote, quoted.quote_id),
                requested.Choices(
                    author_id=quoted.author_id, clause_version_ids=quoted.clause_version_ids
                ),
                vendor=c.settings.vendor,
                now=c.now,
            )
        except DomainError as exc:
            return _not_generated(exc.detail)
        generation_id = asked.id
    try:
        requested.fulfil(c, generation_id)
    except Exception as exc:
        # A render that crashed (the disk full): counted on the pending generation, which the
        # worker's sweep renders again, as after the page's job. The demo says so and goes on.
        log.exception("génération du contrat de démonstration %s échouée", generation_id)
        return msg(
            "Contrat de démonstration pas encore généré : le rendu du PDF a échoué ({problem}). "
            "Le service des travaux le relancera ; sinon, relancez paraphe demo.",
            problem=str(exc),
        )
    with transaction(c.session_factory) as session:
        row = requested.get_generation(session, generation_id)
        if row.status is GenerationStatus.DONE and row.contract_id is not None:
            return row.contract_id
        return _not_generated(row.problem or row.status.value)


def _failed_generation(session: Session, quote_id: int) -> str | None:
    """Why the last generation of the quote's version 1 failed, if it did."""
    last = session.scalar(
        select(ContractGeneration)
        .where(ContractGeneration.quote_id == quote_id, ContractGeneration.first_version)
        .order_by(ContractGeneration.id.desc())
        .limit(1)
    )
    if last is None or last.status is not GenerationStatus.FAILED:
        return None
    return last.problem or last.status.value


def _not_generated(problem: str) -> str:
    return msg(
        "Contrat de démonstration non généré : {problem} Ouvrez le devis de démonstration "
        "pour relancer la génération.",
        problem=problem,
    )


def _send(c: Collaborators, contract_id: int, author_id: int) -> str | None:
    """Version 1 sent to the client's signer, as the send button does, unless the contract
    has a request already or a version 2 (the evaluator's doing, kept as it is)."""
    with transaction(c.session_factory) as session:
        if requests_for_contract(session, contract_id):
            return None
        if len(get_contract(session, contract_id).versions) > 1:
            return None
    try:
        sent = signatures.send_version(c, contract_id, 1, user_id=author_id, parallel=False)
    except (DomainError, SigningError) as exc:
        return msg(
            "Contrat de démonstration non envoyé pour signature : {problem}",
            problem=exc.detail if isinstance(exc, DomainError) else str(exc),
        )
    signature_tasks.after_send(sent.document_id)
    return None
