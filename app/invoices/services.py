"""Issuing invoices and credit notes, and billing plans.

A number (FAC-AAAA-NNNNNN, AV-AAAA-NNNNNN) is taken in the very transaction that inserts the
invoice, after every check: a refused or rolled-back issue consumes no number. Nothing here
updates or deletes an issued invoice (the models' flush guard refuses it anyway).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit import services as audit
from app.clients.models import Client
from app.clock import business_date
from app.config import VendorIdentity
from app.contracts.models import Contract, VersionStatus
from app.documents.models import Document, DocumentKind
from app.documents.services import deposit
from app.invoices import document, rules
from app.invoices.errors import (
    ContractNotSigned,
    CreditNoteInvalid,
    InvoiceInvalid,
    InvoiceNotFound,
    PaymentInvalid,
    PeriodAfterTermination,
    PeriodAlreadyBilled,
    PeriodInvalid,
    RateMissing,
    RevisionInvalid,
    SyntecIndexMissing,
)
from app.invoices.models import (
    BillingFrequency,
    BillingPlan,
    BillingPlanLine,
    CreditNote,
    CreditNoteLine,
    Invoice,
    InvoiceLine,
    InvoiceReminder,
    LateInterestRule,
    PaymentEvent,
    PaymentKind,
    PendingCharge,
    PlanLineKind,
    PriceRevision,
    RateKind,
    ReferenceRate,
    RevisionClause,
    SyntecIndex,
)
from app.numbering.services import next_number
from app.pricing.lines import LineInput
from app.pricing.problems import INVOICE_LINES, field_problems
from app.pricing.totals import Totals, compute_totals, line_total
from app.quotes import services as quotes
from app.quotes.commercial_terms import PaymentMethod
from app.quotes.models import Product, ProductKind, QuoteLine
from app.rendering.french import format_amount, format_decimal
from storage import BlobStore

DEFAULT_PAYMENT_METHOD = "Virement bancaire"


def contract_penalties(contract: Contract) -> rules.PenaltyTerms:
    """The late-payment terms of a signed contract: its particular terms as printed in the
    signed version (the quote's free text, then the clauses), else its CGV version's
    declaration (``rules.penalty_terms`` writes the rule down)."""
    signed = contract.latest
    cgv = signed.cgv_version
    free_text = signed.printed_quote.particular_terms
    terms, problem = rules.penalty_terms(
        rules.CgvPenalties(
            cgv.label, cgv.late_interest_rule, cgv.penalty_article, cgv.recovery_indemnity
        ),
        [
            *((("Conditions particulières", free_text),) if free_text.strip() else ()),
            *((clause.title, clause.body_markdown) for clause in signed.clauses),
        ],
    )
    if problem:
        raise InvoiceInvalid({"contract": problem})
    assert terms is not None
    return terms


def without_contract_penalties() -> rules.PenaltyTerms:
    """An invoice outside any contract: the law's rate and indemnity, said as such."""
    return rules.PenaltyTerms(
        LateInterestRule.ECB_PLUS_10,
        rules.RECOVERY_INDEMNITY,
        "sans contrat : article L441-10 du Code de commerce",
    )


def _penalties_of(plan: BillingPlan | None, contract: Contract | None) -> rules.PenaltyTerms:
    """An invoice's late-payment terms: its plan's, else its contract's, else the law's."""
    if plan is not None:
        return rules.PenaltyTerms(
            plan.late_interest_rule, plan.recovery_indemnity, plan.penalty_source
        )
    if contract is not None:
        return contract_penalties(contract)
    return without_contract_penalties()


def require_signed(contract: Contract) -> None:
    if not contract.versions or contract.latest.status != VersionStatus.SIGNED:
        raise ContractNotSigned(
            f"Le contrat {contract.number} n'est pas signé : il ne peut pas être facturé."
        )


def create_billing_plan(
    session: Session,
    *,
    contract: Contract,
    frequency: BillingFrequency,
    start_date: date,
    now: datetime,
    actor: str,
    payment_terms_days: int = 30,
    payment_method: str = DEFAULT_PAYMENT_METHOD,
    lines: Sequence[LineInput] | None = None,
    setup_fees: Sequence[tuple[LineInput, str]] = (),
) -> BillingPlan:
    """A plan for a signed contract; lines default to the contract's quote lines. Its
    late-payment terms are the signed contract's (``contract_penalties``).

    ``setup_fees``: one-off instalments, each with the period (AAAA-MM) whose invoice bills
    it, e.g. 50 % of the setup fee with the first period and 50 % three months later."""
    require_signed(contract)
    penalties = contract_penalties(contract)
    if lines is None:
        lines = [
            LineInput(q.designation, q.quantity, q.unit_price, q.vat_rate)
            for q in contract.quote.lines
        ]
    _totals, problems = rules.check_lines(lines)
    if problem := rules.payment_terms_problem(payment_terms_days):
        problems["payment_terms_days"] = problem
    terminated_on = contract.client.terminated_on
    if terminated_on is not None and start_date > terminated_on:
        problems["start_date"] = (
            f"Le client est résilié au {terminated_on:%d/%m/%Y} : un plan de facturation ne "
            "peut pas commencer après la résiliation."
        )
    for index, (fee, period) in enumerate(setup_fees):
        for name, message in field_problems(fee, INVOICE_LINES).items():
            problems[f"setup_fees-{index}-{name}"] = message
        if rules.Period.parse(period) is None:
            problems[f"setup_fees-{index}-period"] = "Période attendue au format AAAA-MM."
    if problems:
        raise InvoiceInvalid(problems)
    plan = BillingPlan(
        contract_id=contract.id,
        client_id=contract.client_id,
        frequency=frequency,
        start_date=start_date,
        payment_terms_days=payment_terms_days,
        payment_method=payment_method,
        late_interest_rule=penalties.rule,
        recovery_indemnity=penalties.indemnity,
        penalty_source=penalties.source,
        active=True,
        created_at=now,
        lines=[
            BillingPlanLine(
                position=i,
                designation=line.designation.strip(),
                quantity=line.quantity,
                unit_price=line.unit_price,
                vat_rate=line.vat_rate,
            )
            for i, line in enumerate(lines, start=1)
        ]
        + [
            BillingPlanLine(
                position=len(lines) + i,
                designation=fee.designation.strip(),
                quantity=fee.quantity,
                unit_price=fee.unit_price,
                vat_rate=fee.vat_rate,
                kind=PlanLineKind.ONE_OFF,
                bill_period=str(rules.Period.parse(period)),
            )
            for i, (fee, period) in enumerate(setup_fees, start=1)
        ],
    )
    session.add(plan)
    session.flush()
    audit.record(
        session,
        now=now,
        actor=actor,
        action="billing_plan.created",
        subject_type="billing_plan",
        subject_id=plan.id,
        client_id=plan.client_id,
        details={"contract": contract.number, "frequency": frequency.value},
    )
    return plan


PAYMENT_METHOD_NAMES = {
    PaymentMethod.DIRECT_DEBIT: "Prélèvement SEPA",
    PaymentMethod.TRANSFER: "Virement bancaire",
}
"""How the invoice names the quote's payment method (the invoice form's choices)."""

PRODUCT_KINDS = {
    ProductKind.PLAN: rules.QuotedKind.RECURRING,
    ProductKind.MODULE: rules.QuotedKind.RECURRING,
    ProductKind.SETUP_FEE: rules.QuotedKind.SETUP,
    ProductKind.TRAINING: rules.QuotedKind.ONE_OFF,
}


def _quoted_kind(line: QuoteLine, products: dict[int, Product]) -> rules.QuotedKind:
    """A catalogue line says what it is; a free line is recurring when counted per month or
    year, setup fees when it says "mise en service", otherwise billed once."""
    product = products.get(line.product_id) if line.product_id is not None else None
    if product is not None:
        return PRODUCT_KINDS[product.kind]
    unit = line.unit.strip().lower()
    if unit.startswith(("mois", "an", "année")) or unit.endswith(("/mois", "/an")):
        return rules.QuotedKind.RECURRING
    if "mise en service" in line.designation.lower():
        return rules.QuotedKind.SETUP
    return rules.QuotedKind.ONE_OFF


def create_plan_from_contract(
    session: Session,
    *,
    contract: Contract,
    start_date: date,
    now: datetime,
    actor: str,
) -> BillingPlan:
    """The billing plan of a signed contract, filled from its quote's commercial terms:
    frequency, payment method and terms, recurring amounts per period and the setup-fee
    schedule (``rules.plan_lines`` writes the rule down). One plan per contract."""
    require_signed(contract)
    if session.scalar(select(BillingPlan.id).where(BillingPlan.contract_id == contract.id)):
        raise InvoiceInvalid({"contract": f"Le contrat {contract.number} a déjà son plan."})
    quote = contract.quote
    terms = quotes.terms_of(quote)
    ids = {line.product_id for line in quote.lines if line.product_id is not None}
    products = {p.id: p for p in session.scalars(select(Product).where(Product.id.in_(ids)))}
    inputs = quotes.line_inputs(quote)
    nets = rules.quoted_nets(
        [line_total(line) for line in inputs],
        compute_totals(inputs, quotes.global_discount_of(quote)),
        [line.vat_rate for line in inputs],
    )
    quoted = [
        rules.QuotedLine(
            line.designation,
            line.quantity,
            line.unit,
            line.vat_rate,
            net,
            _quoted_kind(line, products),
        )
        for line, net in zip(quote.lines, nets, strict=True)
    ]
    period_months = terms.billing_period.months
    planned = rules.plan_lines(
        quoted,
        commitment_months=terms.commitment_months,
        period_months=period_months,
        setup_schedule=[(s.percent, s.milestone) for s in terms.setup_schedule],
        first=rules.Period(start_date.year, start_date.month),
    )
    recurring = [p for p in planned if p.bill_period is None]
    once = [p for p in planned if p.bill_period is not None]
    return create_billing_plan(
        session,
        contract=contract,
        frequency=BillingFrequency.MONTHLY if period_months == 1 else BillingFrequency.ANNUAL,
        start_date=start_date,
        now=now,
        actor=actor,
        payment_terms_days=terms.payment_terms_days,
        payment_method=PAYMENT_METHOD_NAMES[terms.payment_method],
        lines=[LineInput(p.designation, p.quantity, p.unit_price, p.vat_rate) for p in recurring],
        setup_fees=[
            (LineInput(p.designation, p.quantity, p.unit_price, p.vat_rate), p.bill_period or "")
            for p in once
        ],
    )


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
    penalties: rules.PenaltyTerms | None = None,
) -> Invoice:
    """Check everything, then take the number and insert the invoice, in the caller's
    transaction. Raises before any number is taken when the input is refused.

    Late-payment terms: ``penalties`` when given, else the plan's, else the contract's,
    else the law's. An EU business client outside France is invoiced under the reverse
    charge: every line at 0 %."""
    if contract is not None:
        require_signed(contract)
        if contract.client_id != client.id:
            raise InvoiceInvalid({"contract": "Ce contrat appartient à un autre client."})
    if penalties is None:
        penalties = _penalties_of(plan, contract)
    pending = _pending_charges(session, client.id)
    reverse_charge = rules.reverse_charge_applies(client.country, client.vat_number)
    lines = rules.reverse_charged(
        [*lines, *(LineInput(c.designation, Decimal("1"), c.amount, c.vat_rate) for c in pending)],
        reverse_charge,
    )
    totals, problems = rules.check_lines(lines)
    if problem := rules.payment_terms_problem(payment_terms_days):
        problems["payment_terms_days"] = problem
    if not payment_method.strip():
        problems["payment_method"] = "Le mode de paiement est obligatoire."
    if problems:
        raise InvoiceInvalid(problems)
    if plan is not None and period is not None and _billed(session, plan.id, period):
        raise PeriodAlreadyBilled(f"La période {period} est déjà facturée pour ce contrat.")
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
        lines=_invoice_lines(lines, totals),
    )
    session.add(invoice)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # a concurrent run billed the same plan and period
        raise PeriodAlreadyBilled(
            f"La période {period} est déjà facturée pour ce contrat."
        ) from exc
    for charge in pending:
        charge.billed_invoice_id = invoice.id
    audit.record(
        session,
        now=now,
        actor=actor,
        action="invoice.issued",
        subject_type="invoice",
        subject_id=invoice.id,
        client_id=client.id,
        details={"number": number, "total_incl_vat": str(totals.total_incl_vat)},
    )
    return invoice


def issue_period_invoice(
    session: Session, *, plan: BillingPlan, period: str, now: datetime, actor: str
) -> Invoice | None:
    """The plan's invoice for ``period`` (billed in advance, pro rata on a partial first
    period), or None when nothing is due that month."""
    parsed = rules.Period.parse(period)
    if parsed is None:
        raise PeriodInvalid(f"Période {period!r} invalide : attendu AAAA-MM (ex. 2026-12).")
    contract = session.get(Contract, plan.contract_id)
    assert contract is not None
    require_signed(contract)
    lines = period_lines(plan, parsed)
    if not lines:
        return None
    terminated_on = plan.client.terminated_on
    if terminated_on is not None and rules.begins_after(
        plan.frequency.value, plan.start_date, parsed, terminated_on
    ):
        raise PeriodAfterTermination(
            f"Le client {plan.client.legal_name} est résilié au {terminated_on:%d/%m/%Y} : "
            f"la période {parsed} commence après la résiliation, elle n'est pas facturée."
        )
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


def period_lines(plan: BillingPlan, period: rules.Period) -> list[LineInput]:
    """What the plan bills for ``period``: its recurring lines (pro rata on a partial first
    period) when a period begins then, and the one-off lines scheduled for that month."""
    lines: list[LineInput] = []
    bounds = rules.plan_period_bounds(plan.frequency.value, plan.start_date, period)
    if bounds is not None:
        begin, end = bounds
        fraction = rules.pro_rata(plan.frequency.value, begin, end, period)
        span = f"du {begin:%d/%m/%Y} au {end:%d/%m/%Y}"
        suffix = f" — {span}" + (" (prorata)" if fraction != 1 else "")
        lines += [
            LineInput(
                designation=f"{line.designation}{suffix}",
                quantity=rules.prorated_quantity(line.quantity, fraction),
                unit_price=line.unit_price,
                vat_rate=line.vat_rate,
            )
            for line in plan.lines
            if line.kind == PlanLineKind.RECURRING
        ]
    lines += [
        LineInput(line.designation, line.quantity, line.unit_price, line.vat_rate)
        for line in plan.lines
        if line.kind == PlanLineKind.ONE_OFF and line.bill_period == str(period)
    ]
    return lines


@dataclass(frozen=True)
class RemainingDue:
    """What a termination before the end of the commitment leaves unbilled: the periods of
    the running term that begin after the termination date, and their amounts."""

    terminated_on: date
    term_last_day: date
    periods: tuple[str, ...]
    total_excl_vat: Decimal
    total_incl_vat: Decimal


def remaining_due(session: Session, plan: BillingPlan) -> RemainingDue | None:
    """The plan's remaining due under the commitment (the initial one, or the tacit renewal
    running) when the client was terminated before its end; None otherwise. A period
    already invoiced is not counted again."""
    terminated_on = plan.client.terminated_on
    contract = session.get(Contract, plan.contract_id)
    if terminated_on is None or contract is None:
        return None
    terms = quotes.terms_of(contract.quote)
    end = rules.term_end(
        plan.start_date, terms.commitment_months, terms.tacit_renewal, terminated_on
    )
    periods: list[str] = []
    excl = incl = Decimal("0.00")
    period = rules.Period(terminated_on.year, terminated_on.month)
    while period.first_day < end:
        lines = period_lines(plan, period)
        if (
            lines
            and rules.begins_after(plan.frequency.value, plan.start_date, period, terminated_on)
            and not _billed(session, plan.id, str(period))
        ):
            totals = compute_totals(lines)
            periods.append(str(period))
            excl += totals.total_excl_vat
            incl += totals.total_incl_vat
        period = rules.months_later(period, 1)
    if not periods:
        return None
    return RemainingDue(terminated_on, end - timedelta(days=1), tuple(periods), excl, incl)


def active_plans(session: Session) -> Sequence[BillingPlan]:
    return session.scalars(
        select(BillingPlan).where(BillingPlan.active.is_(True)).order_by(BillingPlan.id)
    ).all()


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
    (positive amounts, credited back). The credits never exceed the invoice."""
    if lines is None:
        lines = [
            LineInput(line.designation, line.quantity, line.unit_price, line.vat_rate)
            for line in invoice.lines
        ]
    lines = rules.reverse_charged(lines, invoice.reverse_charge)  # credits what was invoiced
    totals, problems = rules.check_lines(lines)
    if not reason.strip():
        problems["reason"] = "Le motif de l'avoir est obligatoire."
    if not problems:
        already = rules.credited_so_far([c.total_incl_vat for c in invoice.credit_notes])
        if already + totals.total_incl_vat > invoice.total_incl_vat:
            remaining = invoice.total_incl_vat - already
            problems["total"] = (
                f"L'avoir dépasse ce qui reste à créditer sur {invoice.number} "
                f"({format_amount(remaining)} TTC)."
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
        lines=[
            CreditNoteLine(
                position=i,
                designation=line.designation.strip(),
                quantity=line.quantity,
                unit_price=line.unit_price,
                vat_rate=line.vat_rate,
                total_excl_vat=total,
            )
            for i, (line, total) in enumerate(zip(lines, totals.line_totals, strict=True), 1)
        ],
    )
    session.add(note)
    session.flush()
    audit.record(
        session,
        now=now,
        actor=actor,
        action="credit_note.issued",
        subject_type="credit_note",
        subject_id=note.id,
        client_id=invoice.client_id,
        details={"number": number, "invoice": invoice.number},
    )
    return note


def invoice_document(
    session: Session, invoice: Invoice, vendor: VendorIdentity
) -> document.InvoiceDocument:
    contract = session.get(Contract, invoice.contract_id) if invoice.contract_id else None
    return document.invoice_document(invoice, vendor, contract.number if contract else None)


def archive_invoice(
    session: Session,
    store: BlobStore,
    invoice: Invoice,
    pdf: bytes,
    *,
    now: datetime,
    actor: str,
) -> Document:
    """Deposit the invoice's Factur-X PDF (kind invoice, 10-year retention) and attach it.
    Rendering happens before, outside the issuing transaction (it holds the number lock)."""
    return _archive_pdf(session, store, invoice, DocumentKind.INVOICE, pdf, now=now, actor=actor)


def archive_credit_note(
    session: Session,
    store: BlobStore,
    note: CreditNote,
    pdf: bytes,
    *,
    now: datetime,
    actor: str,
) -> Document:
    """The same for a credit note (kind credit_note: an accounting document, kept 10 years)."""
    return _archive_pdf(session, store, note, DocumentKind.CREDIT_NOTE, pdf, now=now, actor=actor)


def _archive_pdf(
    session: Session,
    store: BlobStore,
    issued: Invoice | CreditNote,
    kind: DocumentKind,
    pdf: bytes,
    *,
    now: datetime,
    actor: str,
) -> Document:
    """Deposit ``pdf`` under the document's number; attach it unless one already is (a
    retried run deposits the same bytes again, which the archive deduplicates)."""
    archived = deposit(
        session,
        store,
        kind=kind,
        client_id=issued.client_id,
        reference=issued.number,
        version=1,
        data=pdf,
        media_type="application/pdf",
        filename=f"{issued.number}.pdf",
        now=now,
        actor=actor,
    )
    if issued.document_id is None:
        issued.document_id = archived.id
    return archived


def list_plans(session: Session) -> Sequence[BillingPlan]:
    return session.scalars(select(BillingPlan).order_by(BillingPlan.id)).unique().all()


def get_plan(session: Session, plan_id: int) -> BillingPlan:
    plan = session.get(BillingPlan, plan_id)
    if plan is None:
        raise InvoiceNotFound(f"Plan de facturation n° {plan_id} introuvable.")
    return plan


def revision_clause_of(session: Session, plan: BillingPlan) -> RevisionClause | None:
    return session.scalar(select(RevisionClause).where(RevisionClause.plan_id == plan.id))


def revisions_of(session: Session, plan: BillingPlan) -> Sequence[PriceRevision]:
    return session.scalars(
        select(PriceRevision)
        .where(PriceRevision.plan_id == plan.id)
        .order_by(PriceRevision.renewal_date)
    ).all()


def plan_invoices(session: Session, plan: BillingPlan) -> Sequence[Invoice]:
    return session.scalars(
        select(Invoice).where(Invoice.plan_id == plan.id).order_by(Invoice.id)
    ).all()


def get_credit_note(session: Session, note_id: int) -> CreditNote:
    note = session.get(CreditNote, note_id)
    if note is None:
        raise InvoiceNotFound(f"Avoir n° {note_id} introuvable.")
    return note


def get_invoice(session: Session, invoice_id: int) -> Invoice:
    invoice = session.get(Invoice, invoice_id)
    if invoice is None:
        raise InvoiceNotFound(f"Facture n° {invoice_id} introuvable.")
    return invoice


def invoices_without_pdf(session: Session) -> list[int]:
    """Issued invoices whose PDF was never archived (a run stopped between issuing and
    archiving), oldest first: the next run produces them."""
    return list(
        session.scalars(
            select(Invoice.id).where(Invoice.document_id.is_(None)).order_by(Invoice.id)
        )
    )


def list_invoices(session: Session, limit: int = 200) -> Sequence[Invoice]:
    return session.scalars(select(Invoice).order_by(Invoice.id.desc()).limit(limit)).all()


def totals_of(invoice: Invoice) -> Totals:
    return compute_totals(
        [LineInput(x.designation, x.quantity, x.unit_price, x.vat_rate) for x in invoice.lines]
    )


def _billed(session: Session, plan_id: int, period: str) -> bool:
    found = session.scalar(
        select(Invoice.id).where(Invoice.plan_id == plan_id, Invoice.period == period)
    )
    return found is not None


def _invoice_lines(lines: Sequence[LineInput], totals: Totals) -> list[InvoiceLine]:
    return [
        InvoiceLine(
            position=i,
            designation=line.designation.strip(),
            quantity=line.quantity,
            unit_price=line.unit_price,
            vat_rate=line.vat_rate,
            total_excl_vat=total,
        )
        for i, (line, total) in enumerate(zip(lines, totals.line_totals, strict=True), start=1)
    ]


def _pending_charges(session: Session, client_id: int) -> Sequence[PendingCharge]:
    return session.scalars(
        select(PendingCharge)
        .where(PendingCharge.client_id == client_id, PendingCharge.billed_invoice_id.is_(None))
        .order_by(PendingCharge.id)
        .with_for_update()
    ).all()


# --- payment follow-up ------------------------------------------------------------------


def paid_amount(session: Session, invoice: Invoice) -> Decimal:
    amounts = session.scalars(
        select(PaymentEvent.amount).where(
            PaymentEvent.invoice_id == invoice.id, PaymentEvent.kind == PaymentKind.PAYMENT
        )
    ).all()
    return sum(amounts, Decimal("0.00"))


def amount_due(session: Session, invoice: Invoice) -> Decimal:
    """TTC still owed: the total, less payments received and credit notes issued on it."""
    credited = rules.credited_so_far([c.total_incl_vat for c in invoice.credit_notes])
    return invoice.total_incl_vat - credited - paid_amount(session, invoice)


def record_payment(
    session: Session,
    *,
    invoice: Invoice,
    amount: Decimal,
    occurred_on: date,
    now: datetime,
    actor: str,
    created_by_id: int | None = None,
) -> PaymentEvent:
    """A payment received, full or partial; never more than what is still due."""
    due = amount_due(session, invoice)
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise PaymentInvalid({"amount": "Montant positif, au centime."})
    if amount > due:
        raise PaymentInvalid({"amount": f"Le montant dépasse le reste dû ({due} € TTC)."})
    event = PaymentEvent(
        invoice_id=invoice.id,
        kind=PaymentKind.PAYMENT,
        amount=amount,
        occurred_on=occurred_on,
        note="",
        created_at=now,
        created_by_id=created_by_id,
    )
    session.add(event)
    session.flush()
    audit.record(
        session,
        now=now,
        actor=actor,
        action="invoice.payment_recorded",
        subject_type="invoice",
        subject_id=invoice.id,
        client_id=invoice.client_id,
        details={"amount": str(amount), "left": str(due - amount)},
    )
    return event


def record_failed_debit(
    session: Session,
    *,
    invoice: Invoice,
    occurred_on: date,
    charge_fee: bool,
    now: datetime,
    actor: str,
    created_by_id: int | None = None,
) -> PaymentEvent:
    """A rejected direct debit; with ``charge_fee`` the 25 € fee goes on the next invoice."""
    event = PaymentEvent(
        invoice_id=invoice.id,
        kind=PaymentKind.FAILED,
        amount=Decimal("0.00"),
        occurred_on=occurred_on,
        note="frais de rejet refacturés" if charge_fee else "",
        created_at=now,
        created_by_id=created_by_id,
    )
    session.add(event)
    if charge_fee:
        session.add(
            PendingCharge(
                client_id=invoice.client_id,
                designation=(
                    f"Frais de rejet de prélèvement du {occurred_on:%d/%m/%Y} "
                    f"(facture {invoice.number})"
                ),
                amount=rules.REJECTED_DEBIT_FEE,
                vat_rate=Decimal("0"),  # an indemnity: outside the scope of VAT
                created_at=now,
            )
        )
    session.flush()
    audit.record(
        session,
        now=now,
        actor=actor,
        action="invoice.debit_failed",
        subject_type="invoice",
        subject_id=invoice.id,
        client_id=invoice.client_id,
        details={"fee": charge_fee},
    )
    return event


def set_reference_rate(
    session: Session, *, kind: RateKind, effective_from: date, rate: Decimal, now: datetime
) -> ReferenceRate:
    if not rate.is_finite() or not Decimal("-5") <= rate <= Decimal("50"):
        raise PaymentInvalid({"rate": "Taux en %, entre -5 et 50."})
    existing = session.scalar(
        select(ReferenceRate).where(
            ReferenceRate.kind == kind, ReferenceRate.effective_from == effective_from
        )
    )
    if existing is not None:
        raise PaymentInvalid(
            {"effective_from": f"Un {kind.label} est déjà saisi au {effective_from:%d/%m/%Y}."}
        )
    row = ReferenceRate(kind=kind, effective_from=effective_from, rate=rate, created_at=now)
    session.add(row)
    session.flush()
    return row


def reference_rates(session: Session) -> Sequence[ReferenceRate]:
    return session.scalars(
        select(ReferenceRate).order_by(ReferenceRate.kind, ReferenceRate.effective_from.desc())
    ).all()


def rate_on(session: Session, kind: RateKind, day: date) -> Decimal:
    found = session.scalar(
        select(ReferenceRate.rate)
        .where(ReferenceRate.kind == kind, ReferenceRate.effective_from <= day)
        .order_by(ReferenceRate.effective_from.desc())
        .limit(1)
    )
    if found is None:
        raise RateMissing(f"Aucun {kind.label} saisi en vigueur au {day:%d/%m/%Y}.")
    return found


@dataclass(frozen=True)
class Overdue:
    invoice: Invoice
    amount_due: Decimal
    days_late: int
    rate: Decimal
    interest: Decimal
    indemnity: Decimal

    @property
    def total_claimed(self) -> Decimal:
        return self.amount_due + self.interest + self.indemnity


def overdue_invoices(session: Session, as_of: date) -> list[Overdue]:
    """Invoices past their due date with something left to pay, with the late interest
    (rates in force on the due date) and the 40 € indemnity."""
    rows: list[Overdue] = []
    candidates = session.scalars(
        select(Invoice).where(Invoice.due_on < as_of).order_by(Invoice.due_on, Invoice.id)
    ).all()
    for invoice in candidates:
        due = amount_due(session, invoice)
        if due <= 0:
            continue
        days = (as_of - invoice.due_on).days
        rate = rules.late_interest_rate(
            invoice.late_interest_rule.value,
            rate_on(session, RateKind.ECB, invoice.due_on),
            rate_on(session, RateKind.LEGAL, invoice.due_on),
        )
        rows.append(
            Overdue(
                invoice=invoice,
                amount_due=due,
                days_late=days,
                rate=rate,
                interest=rules.late_interest(due, rate, days),
                indemnity=invoice.recovery_indemnity,
            )
        )
    return rows


def reminders_due(session: Session, as_of: date) -> list[tuple[Overdue, int]]:
    """Overdue invoices whose next reminder step is reached, with that step."""
    due: list[tuple[Overdue, int]] = []
    for row in overdue_invoices(session, as_of):
        sent = session.scalars(
            select(InvoiceReminder.step).where(InvoiceReminder.invoice_id == row.invoice.id)
        ).all()
        step = rules.reminder_step(row.days_late, sent)
        if step is not None:
            due.append((row, step))
    return due


def record_reminder(session: Session, *, row: Overdue, step: int, now: datetime) -> InvoiceReminder:
    reminder = InvoiceReminder(
        invoice_id=row.invoice.id,
        step=step,
        sent_to=row.invoice.client.signer_email,
        created_at=now,
    )
    session.add(reminder)
    session.flush()
    return reminder


# --- Syntec price revision --------------------------------------------------------------


def set_syntec_index(
    session: Session, *, month: str, value: Decimal, now: datetime, created_by_id: int | None
) -> SyntecIndex:
    parsed = rules.Period.parse(month)
    problems: dict[str, str] = {}
    if parsed is None:
        problems["month"] = "Mois attendu au format AAAA-MM."
    if not value.is_finite() or not Decimal("1") <= value <= Decimal("100000"):
        problems["value"] = "Valeur d'indice positive attendue (ex. 298,4)."
    elif value != value.quantize(Decimal("0.01")):
        problems["value"] = "2 décimales au maximum."
    if not problems and session.get(SyntecIndex, str(parsed)) is not None:
        problems["month"] = f"L'indice de {parsed} est déjà saisi : il ne change plus."
    if problems:
        raise RevisionInvalid(problems)
    row = SyntecIndex(month=str(parsed), value=value, created_at=now, created_by_id=created_by_id)
    session.add(row)
    session.flush()
    return row


def syntec_indices(session: Session) -> Sequence[SyntecIndex]:
    return session.scalars(select(SyntecIndex).order_by(SyntecIndex.month.desc())).all()


def syntec_value(session: Session, month: str) -> Decimal:
    row = session.get(SyntecIndex, month)
    if row is None:
        raise SyntecIndexMissing(
            f"Indice Syntec de {month} non saisi : la révision de prix ne peut pas être "
            "calculée. Saisissez-le d'abord (Factures → Indices Syntec)."
        )
    return row.value


def set_revision_clause(
    session: Session,
    *,
    plan: BillingPlan,
    base_month: str,
    reference_month: int,
    cap_percent: Decimal | None = None,
    no_decrease: bool = False,
) -> RevisionClause:
    problems: dict[str, str] = {}
    if rules.Period.parse(base_month) is None:
        problems["base_month"] = "Mois attendu au format AAAA-MM."
    if not 1 <= reference_month <= 12:
        problems["reference_month"] = "Mois de référence de 1 à 12."
    if cap_percent is not None and not Decimal("0") <= cap_percent <= Decimal("100"):
        problems["cap_percent"] = "Plafond de 0 à 100 %."
    if problems:
        raise RevisionInvalid(problems)
    clause = session.scalar(select(RevisionClause).where(RevisionClause.plan_id == plan.id))
    if clause is None:
        clause = RevisionClause(plan_id=plan.id)
        session.add(clause)
    clause.base_month = base_month
    clause.reference_month = reference_month
    clause.cap_percent = cap_percent
    clause.no_decrease = no_decrease
    session.flush()
    return clause


@dataclass(frozen=True)
class RevisionPreview:
    renewal: date
    s0_month: str
    s0: Decimal
    s_month: str
    s: Decimal
    factor: Decimal
    formula: str
    prices: tuple[tuple[str, Decimal, Decimal], ...]  # designation, P0, P


def preview_revision(session: Session, *, plan: BillingPlan, renewal: date) -> RevisionPreview:
    """What the revision at ``renewal`` would do; raises when an index is missing."""
    clause = session.scalar(select(RevisionClause).where(RevisionClause.plan_id == plan.id))
    if clause is None:
        raise RevisionInvalid({"plan": "Ce plan n'a pas de clause de révision Syntec."})
    if renewal.month != plan.start_date.month or renewal.day != plan.start_date.day:
        raise RevisionInvalid(
            {"renewal": f"La révision s'applique au renouvellement ({plan.start_date:%d/%m})."}
        )
    s_month = str(rules.revision_index_month(clause.reference_month, renewal))
    s0 = syntec_value(session, clause.base_month)
    s = syntec_value(session, s_month)
    factor, applied = rules.revision_factor(s0, s, clause.cap_percent, clause.no_decrease)
    formula = (
        f"Révision de prix au {renewal:%d/%m/%Y} (indice Syntec) : P = P0 × (S / S0) = "
        f"P0 × ({format_decimal(s, 2)} / {format_decimal(s0, 2)}), "
        f"S0 = indice de {clause.base_month}, S = indice de {s_month}, "
        f"coefficient appliqué {format_decimal(factor)}{applied}."
    )
    prices = tuple(
        (line.designation, line.unit_price, rules.revised_price(line.unit_price, factor))
        for line in plan.lines
        if line.kind == PlanLineKind.RECURRING
    )
    return RevisionPreview(renewal, clause.base_month, s0, s_month, s, factor, formula, prices)


def apply_revision(
    session: Session, *, plan: BillingPlan, renewal: date, now: datetime, actor: str
) -> PriceRevision:
    """Apply the previewed revision: new prices on the plan, S becomes the next S0."""
    preview = preview_revision(session, plan=plan, renewal=renewal)
    done = session.scalar(
        select(PriceRevision).where(
            PriceRevision.plan_id == plan.id, PriceRevision.renewal_date == renewal
        )
    )
    if done is not None:
        raise RevisionInvalid({"renewal": "Cette révision est déjà appliquée."})
    for line in plan.lines:
        if line.kind == PlanLineKind.RECURRING:
            line.unit_price = rules.revised_price(line.unit_price, preview.factor)
    clause = session.scalar(select(RevisionClause).where(RevisionClause.plan_id == plan.id))
    assert clause is not None
    clause.base_month = preview.s_month
    revision = PriceRevision(
        plan_id=plan.id,
        renewal_date=renewal,
        s0_month=preview.s0_month,
        s0=preview.s0,
        s_month=preview.s_month,
        s=preview.s,
        factor=preview.factor,
        formula=preview.formula,
        applied_at=now,
    )
    session.add(revision)
    session.flush()
    audit.record(
        session,
        now=now,
        actor=actor,
        action="billing_plan.revised",
        subject_type="billing_plan",
        subject_id=plan.id,
        client_id=plan.client_id,
        details={"factor": str(preview.factor), "s0": str(preview.s0), "s": str(preview.s)},
    )
    return revision


# --- upgrade during a period ------------------------------------------------------------


@dataclass(frozen=True)
class PlanChange:
    """What ``change_plan_line`` did: the pro rata charge (None when nothing is owed) and,
    when asked for, the complementary invoice issued at once with it."""

    charge: PendingCharge | None
    invoice: Invoice | None


def change_plan_line(
    session: Session,
    *,
    plan: BillingPlan,
    position: int,
    quantity: Decimal,
    unit_price: Decimal,
    effective: date,
    now: datetime,
    actor: str,
    immediate: bool = False,
) -> PlanChange:
    """Change a recurring line's quantity or unit price from ``effective`` on.

    On an upgrade during a period already billed (in advance), the difference is owed pro
    rata temporis for the days left in that period, ``effective`` included: a charge for
    the client's next invoice or, with ``immediate``, a complementary invoice issued now.
    A decrease takes effect on the next period (a paid period is refunded by a credit note
    only). Running the same change again finds the line already changed: nothing is owed
    twice. A change during a period not yet billed must start on its first day (that
    invoice then bills the new amount for the whole period)."""
    line = next((x for x in plan.lines if x.position == position), None)
    if line is None or line.kind != PlanLineKind.RECURRING:
        raise InvoiceInvalid({"position": "Ligne récurrente introuvable dans ce plan."})
    new = LineInput(line.designation, quantity, unit_price, line.vat_rate)
    problems = {k: v for k, v in field_problems(new, INVOICE_LINES).items() if k != "designation"}
    if not problems and unit_price < 0:
        problems["unit_price"] = "Le prix unitaire d'une ligne récurrente est positif."
    period = rules.period_containing(plan.frequency.value, plan.start_date, effective)
    bounds = (
        rules.plan_period_bounds(plan.frequency.value, plan.start_date, period)
        if period is not None
        else None
    )
    if period is None or bounds is None:
        problems["effective"] = "La date d'effet précède le début du plan."
    if problems:
        raise InvoiceInvalid(problems)
    assert period is not None and bounds is not None
    begin, end = bounds
    old_total = line_total(
        LineInput(line.designation, line.quantity, line.unit_price, line.vat_rate)
    )
    new_total = line_total(new)
    if _billed(session, plan.id, str(period)):
        fraction = rules.pro_rata(plan.frequency.value, effective, end, period)
        amount = rules.upgrade_charge(old_total, new_total, fraction)
    elif effective != begin and new_total != old_total:
        raise InvoiceInvalid(
            {
                "effective": (
                    f"La période {period} n'est pas encore facturée : la modification doit "
                    f"prendre effet le {begin:%d/%m/%Y}, ou après la facturation de la période."
                )
            }
        )
    else:
        amount = Decimal("0.00")
    charge = None
    if amount > 0:
        days = (end - effective).days + 1
        charge = PendingCharge(
            client_id=plan.client_id,
            designation=(
                f"Complément au prorata : {line.designation}, "
                f"{format_decimal(line.quantity)} × {format_decimal(line.unit_price)} € → "
                f"{format_decimal(quantity)} × {format_decimal(unit_price)} € HT, "
                f"du {effective:%d/%m/%Y} au {end:%d/%m/%Y} ({days} jours, période {period})"
            ),
            amount=amount,
            vat_rate=line.vat_rate,
            created_at=now,
        )
        session.add(charge)
    old = (str(line.quantity), str(line.unit_price))
    line.quantity, line.unit_price = quantity, unit_price
    session.flush()
    audit.record(
        session,
        now=now,
        actor=actor,
        action="billing_plan.line_changed",
        subject_type="billing_plan",
        subject_id=plan.id,
        client_id=plan.client_id,
        details={
            "position": position,
            "from": list(old),
            "to": [str(quantity), str(unit_price)],
            "effective": effective.isoformat(),
            "pro_rata": str(amount),
        },
    )
    invoice = None
    if charge is not None and immediate:
        contract = session.get(Contract, plan.contract_id)
        invoice = issue_invoice(
            session,
            client=plan.client,
            lines=[],
            now=now,
            actor=actor,
            contract=contract,
            payment_terms_days=plan.payment_terms_days,
            payment_method=plan.payment_method,
            penalties=_penalties_of(plan, None),
        )
    return PlanChange(charge=charge, invoice=invoice)
