"""Issuing invoices and credit notes.

A number (FAC-AAAA-NNNNNN, AV-AAAA-NNNNNN) is taken in the very transaction that inserts the
invoice, after every check: a refused or rolled-back issue consumes no number. Nothing here
updates or deletes an issued invoice (the models' flush guard refuses it anyway).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.clients.models import Client, ClientStatus
from app.clock import business_date
from app.contracts.models import Contract
from app.events import recording as events
from app.events.recording import Resource
from app.invoices import late_payment, rules
from app.invoices.errors import (
    CreditNoteInvalid,
    InvoiceInvalid,
    InvoiceNotFound,
    PeriodAfterTermination,
    PeriodAlreadyBilled,
    PeriodInvalid,
)
from app.invoices.journal import journal
from app.invoices.models import (
    BillingPlan,
    CreditNote,
    CreditNoteLine,
    Invoice,
    InvoiceLine,
    PendingCharge,
    PriceRevision,
)
from app.invoices.plans import (
    DEFAULT_PAYMENT_METHOD,
    billed,
    penalties_of,
    period_lines,
    require_signed,
    signed_contracts,
)
from app.messages import Day, Euros, msg
from app.numbering.services import next_number
from app.pricing.lines import LineInput, line_input
from app.pricing.totals import Totals, compute_totals

LineT = TypeVar("LineT", InvoiceLine, CreditNoteLine)


@dataclass(frozen=True)
class InvoicedLines:
    """An invoice's lines: those given, then the client's pending charges (a rejected
    debit's fee), reverse-charged if so; their totals and what refuses them."""

    lines: list[LineInput]
    totals: Totals
    problems: dict[str, str]
    pending: Sequence[PendingCharge]
    reverse_charge: bool


def invoiced_lines(
    session: Session,
    client: Client,
    lines: Sequence[LineInput],
    *,
    lock: bool = True,
    with_pending: bool = True,
) -> InvoicedLines:
    """The lines of an invoice of ``client``. A preview reads the pending charges without
    ``lock``, and not again (``with_pending``) for a client's second plan."""
    pending: Sequence[PendingCharge] = ()
    if with_pending:
        query = select(PendingCharge).where(
            PendingCharge.client_id == client.id, PendingCharge.billed_invoice_id.is_(None)
        )
        query = query.order_by(PendingCharge.id)
        pending = session.scalars(query.with_for_update() if lock else query).all()
    reverse_charge = rules.reverse_charge_applies(client.country, client.vat_number)
    billed = rules.reverse_charged(
        [*lines, *(LineInput(c.designation, Decimal("1"), c.amount, c.vat_rate) for c in pending)],
        reverse_charge,
    )
    totals, problems = rules.check_lines(billed)
    return InvoicedLines(billed, totals, dict(problems), pending, reverse_charge)


def issue_invoice(
    session: Session,
    *,
    client: Client,
    lines: Sequence[LineInput],
    now: datetime,
    actor: str,
    contract: Contract | None = None,
    payment_terms_days: int = 30,
    payment_method: str = DEFAULT_PAYMENT_METHOD,
    created_by_id: int | None = None,
    plan: BillingPlan | None = None,
    period: str | None = None,
    notes: str = "",
    penalties: late_payment.PenaltyTerms | None = None,
) -> Invoice:
    """Check everything, then take the number and insert the invoice, in the caller's
    transaction. Raises before any number is taken when the input is refused.

    Late-payment terms: ``penalties`` when given, else the plan's, else the contract's,
    else the law's. An EU business client outside France is invoiced under the reverse
    charge: every line at 0 %."""
    if contract is not None:
        require_signed(contract)
        if contract.client_id != client.id:
            raise InvoiceInvalid({"contract": msg("Ce contrat appartient à un autre client.")})
    if penalties is None:
        penalties = penalties_of(plan, contract)
    billed_lines = invoiced_lines(session, client, lines)
    pending, reverse_charge = billed_lines.pending, billed_lines.reverse_charge
    lines, totals, problems = billed_lines.lines, billed_lines.totals, billed_lines.problems
    if problem := rules.payment_terms_problem(payment_terms_days):
        problems["payment_terms_days"] = problem
    if not payment_method.strip():
        problems["payment_method"] = msg("Le mode de paiement est obligatoire.")
    if problems:
        raise InvoiceInvalid(problems)
    if plan is not None and period is not None and billed(session, plan.id, period):
        raise PeriodAlreadyBilled(
            msg("La période {period} est déjà facturée pour ce contrat.", period=period)
        )
    issued_on = business_date(now)
    number = next_number(session, rules.SERIES_INVOICE, issued_on.year, rules.NUMBER_WIDTH)
    invoice = Invoice(
        number=number,
        client_id=client.id,
        contract_id=contract.id if contract is not None else None,
        plan_id=plan.id if plan is not None else None,
        period=period,
        issued_on=issued_on,
        due_on=rules.due_date(issued_on, payment_terms_days),
        payment_terms_days=payment_terms_days,
        payment_method=payment_method.strip(),
        late_interest_rule=penalties.rule,
        recovery_indemnity=penalties.indemnity,
        penalty_source=penalties.source,
        reverse_charge=reverse_charge,
        total_excl_vat=totals.total_excl_vat,
        total_vat=totals.total_vat,
        total_incl_vat=totals.total_incl_vat,
        notes=notes,
        created_at=now,
        created_by_id=created_by_id,
        lines=_issued_lines(InvoiceLine, lines, totals),
    )
    session.add(invoice)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # a concurrent run billed the same plan and period
        raise PeriodAlreadyBilled(
            msg("La période {period} est déjà facturée pour ce contrat.", period=period)
        ) from exc
    for charge in pending:
        charge.billed_invoice_id = invoice.id
    journal(
        session,
        invoice,
        "issued",
        now=now,
        actor=actor,
        details={"number": number, "total_incl_vat": str(totals.total_incl_vat)},
    )
    events.record(
        session,
        "invoice.issued",
        Resource("invoice", invoice.id, f"/api/v1/invoices/{invoice.id}"),
        {
            "number": number,
            "client_id": client.id,
            "total_incl_vat": str(totals.total_incl_vat),
            "currency": "EUR",
        },
        now=now,
    )
    return invoice


def period_invoice_lines(
    session: Session, plan: BillingPlan, period: rules.Period
) -> tuple[Contract, list[LineInput]]:
    """The plan's contract and its lines for ``period`` (none: nothing due), for the run
    and its preview; raises if the contract is unsigned or the client terminated before."""
    contract = session.get(Contract, plan.contract_id)
    assert contract is not None
    require_signed(contract)
    lines = period_lines(plan, period)
    if not lines:
        return contract, lines
    terminated_on = plan.client.terminated_on
    if terminated_on is not None and rules.begins_after(
        plan.frequency.value, plan.start_date, period, terminated_on
    ):
        raise PeriodAfterTermination(
            msg(
                "Le client {plan_client_legal_name} est résilié au {terminated_on} "
                ": la période {parsed} commence après la résiliation, elle n'est pas facturée.",
                plan_client_legal_name=plan.client.legal_name,
                terminated_on=Day(terminated_on),
                parsed=period,
            )
        )
    return contract, lines


def billed_period(period: str) -> rules.Period:
    """The period a run or the CLI bills, read from its "AAAA-MM"; refused before any work."""
    parsed = rules.Period.parse(period)
    if parsed is None:
        raise PeriodInvalid(
            msg("Période {period!r} invalide : attendu AAAA-MM (ex. 2026-12).", period=period)
        )
    return parsed


def issue_period_invoice(
    session: Session, *, plan: BillingPlan, period: str, now: datetime, actor: str
) -> Invoice | None:
    """The plan's invoice for ``period`` (billed in advance, pro rata on a partial first
    period), or None when nothing is due that month."""
    parsed = billed_period(period)
    contract, lines = period_invoice_lines(session, plan, parsed)
    if not lines:
        return None
    revisions = session.scalars(
        select(PriceRevision)
        .where(PriceRevision.plan_id == plan.id, PriceRevision.shown_on_invoice_id.is_(None))
        .order_by(PriceRevision.id)
    ).all()
    invoice = issue_invoice(
        session,
        client=plan.client,
        lines=lines,
        now=now,
        actor=actor,
        contract=contract,
        payment_terms_days=plan.payment_terms_days,
        payment_method=plan.payment_method,
        plan=plan,
        period=str(parsed),
        notes="\n".join(r.formula for r in revisions),
    )
    for revision in revisions:
        revision.shown_on_invoice_id = invoice.id
    return invoice


def issue_credit_note(
    session: Session,
    *,
    invoice: Invoice,
    reason: str,
    now: datetime,
    actor: str,
    lines: Sequence[LineInput] | None = None,
    created_by_id: int | None = None,
) -> CreditNote:
    """An avoir on ``invoice``: all of it (``lines=None``: a cancellation) or the given lines
    (positive amounts, credited back). The credits never exceed the invoice, even when two
    are issued at once (the invoice's row locked before the check)."""
    lock_invoice(session, invoice)
    if lines is None:
        lines = [line_input(line) for line in invoice.lines]
    lines = rules.reverse_charged(lines, invoice.reverse_charge)  # credits what was invoiced
    totals, problems = rules.check_lines(lines)
    if not reason.strip():
        problems["reason"] = msg("Le motif de l'avoir est obligatoire.")
    if not problems:
        already = rules.credited_so_far([c.total_incl_vat for c in invoice.credit_notes])
        if already + totals.total_incl_vat > invoice.total_incl_vat:
            remaining = invoice.total_incl_vat - already
            problems["total"] = msg(
                "L'avoir dépasse ce qui reste à créditer sur {invoice_number} ({remaining} TTC).",
                invoice_number=invoice.number,
                remaining=Euros(remaining),
            )
    if problems:
        raise CreditNoteInvalid(problems)
    issued_on = business_date(now)
    number = next_number(session, rules.SERIES_CREDIT_NOTE, issued_on.year, rules.NUMBER_WIDTH)
    note = CreditNote(
        number=number,
        invoice_id=invoice.id,
        client_id=invoice.client_id,
        issued_on=issued_on,
        reason=reason.strip(),
        total_excl_vat=totals.total_excl_vat,
        total_vat=totals.total_vat,
        total_incl_vat=totals.total_incl_vat,
        created_at=now,
        created_by_id=created_by_id,
        lines=_issued_lines(CreditNoteLine, lines, totals),
    )
    session.add(note)
    session.flush()
    journal(
        session,
        note,
        "issued",
        now=now,
        actor=actor,
        details={"number": number, "invoice": invoice.number},
    )
    events.record(
        session,
        "credit_note.issued",
        Resource("credit_note", note.id, f"/api/v1/credit-notes/{note.id}"),
        {
            "number": number,
            "invoice": {
                "id": invoice.id,
                "number": invoice.number,
                "links": {"api": f"/api/v1/invoices/{invoice.id}"},
            },
            "client_id": invoice.client_id,
            "total_incl_vat": str(totals.total_incl_vat),
            "currency": "EUR",
        },
        now=now,
    )
    return note


def get_credit_note(session: Session, note_id: int) -> CreditNote:
    note = session.get(CreditNote, note_id)
    if note is None:
        raise InvoiceNotFound(msg("Avoir n° {note_id} introuvable.", note_id=note_id))
    return note


def lock_invoice(session: Session, invoice: Invoice) -> None:
    """Hold the invoice's row until the transaction ends (BEGIN IMMEDIATE on SQLite), and
    re-read what was loaded before the lock: its credit notes, which another transaction may
    have added meanwhile. Whatever is checked against what is left on the invoice (a payment,
    a credit note) is checked under it, so two at once cannot both pass on the same balance."""
    session.execute(select(Invoice.id).where(Invoice.id == invoice.id).with_for_update())
    session.expire(invoice, ["credit_notes"])


def get_invoice(session: Session, invoice_id: int) -> Invoice:
    invoice = session.get(Invoice, invoice_id)
    if invoice is None:
        raise InvoiceNotFound(msg("Facture n° {invoice_id} introuvable.", invoice_id=invoice_id))
    return invoice


def list_invoices(session: Session, limit: int = 200) -> Sequence[Invoice]:
    return session.scalars(select(Invoice).order_by(Invoice.id.desc()).limit(limit)).all()


def totals_of(invoice: Invoice) -> Totals:
    return compute_totals([line_input(x) for x in invoice.lines])


def _issued_lines(
    line_type: type[LineT], lines: Sequence[LineInput], totals: Totals
) -> list[LineT]:
    """The lines as issued, numbered from 1, with their rounded totals (invoice or credit
    note lines: the same columns)."""
    return [
        line_type(
            position=i,
            designation=line.designation.strip(),
            quantity=line.quantity,
            unit_price=line.unit_price,
            vat_rate=line.vat_rate,
            total_excl_vat=total,
        )
        for i, (line, total) in enumerate(zip(lines, totals.line_totals, strict=True), start=1)
    ]


@dataclass(frozen=True)
class InvoiceFormChoices:
    """What the manual invoice form offers: active clients, and signed contracts."""

    clients: Sequence[Client]
    contracts: Sequence[Contract]


def invoice_form_choices(session: Session) -> InvoiceFormChoices:
    clients = session.scalars(
        select(Client).where(Client.status == ClientStatus.ACTIVE).order_by(Client.id)
    ).all()
    return InvoiceFormChoices(clients, signed_contracts(session))
