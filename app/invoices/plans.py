"""Billing plans: how a signed contract is billed (frequency, amounts per period, setup-fee
schedule, late-payment terms), what a period bills, and what a termination leaves unbilled."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.contracts.models import Contract, ContractVersion, VersionStatus
from app.invoices import late_payment, rules
from app.invoices.errors import (
    ContractNotSigned,
    InvoiceInvalid,
    InvoiceNotFound,
)
from app.invoices.journal import journal
from app.invoices.models import (
    BillingFrequency,
    BillingPlan,
    BillingPlanLine,
    Invoice,
    LateInterestRule,
    PlanLineKind,
)
from app.messages import Day, msg
from app.pricing.lines import LineInput, line_input
from app.pricing.problems import INVOICE_LINES, field_problems
from app.pricing.totals import compute_totals, line_total
from app.quotes import services as quotes
from app.quotes.commercial_terms import PaymentMethod
from app.quotes.models import Product, ProductKind, QuoteLine
from app.rendering.french import format_date

DEFAULT_PAYMENT_METHOD = "Virement bancaire"


def contract_penalties(contract: Contract) -> late_payment.PenaltyTerms:
    """The late-payment terms of a signed contract: its particular terms as printed in the
    signed version (the quote's free text, then the clauses), else its CGV version's
    declaration (``late_payment.penalty_terms`` writes the rule down)."""
    signed = contract.latest
    cgv = signed.cgv_version
    free_text = signed.printed_quote.particular_terms
    terms, problem = late_payment.penalty_terms(
        late_payment.CgvPenalties(
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


def without_contract_penalties() -> late_payment.PenaltyTerms:
    """An invoice outside any contract: the law's rate and indemnity, said as such."""
    return late_payment.PenaltyTerms(
        LateInterestRule.ECB_PLUS_10,
        late_payment.RECOVERY_INDEMNITY,
        "sans contrat : article L441-10 du Code de commerce",
    )


def penalties_of(plan: BillingPlan | None, contract: Contract | None) -> late_payment.PenaltyTerms:
    """An invoice's late-payment terms: its plan's, else its contract's, else the law's."""
    if plan is not None:
        return late_payment.PenaltyTerms(
            plan.late_interest_rule, plan.recovery_indemnity, plan.penalty_source
        )
    if contract is not None:
        return contract_penalties(contract)
    return without_contract_penalties()


def require_signed(contract: Contract) -> None:
    if not contract.versions or contract.latest.status != VersionStatus.SIGNED:
        raise ContractNotSigned(
            msg(
                "Le contrat {contract_number} n'est pas signé : il ne peut pas être facturé.",
                contract_number=contract.number,
            )
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
        lines = [line_input(q) for q in contract.quote.lines]
    _totals, problems = rules.check_lines(lines)
    if problem := rules.payment_terms_problem(payment_terms_days):
        problems["payment_terms_days"] = problem
    terminated_on = contract.client.terminated_on
    if terminated_on is not None and start_date > terminated_on:
        problems["start_date"] = msg(
            "Le client est résilié au {terminated_on} : un plan de facturation ne "
            "peut pas commencer après la résiliation.",
            terminated_on=Day(terminated_on),
        )
    for index, (fee, period) in enumerate(setup_fees):
        for name, message in field_problems(fee, INVOICE_LINES).items():
            problems[f"setup_fees-{index}-{name}"] = message
        if rules.Period.parse(period) is None:
            problems[f"setup_fees-{index}-period"] = msg("Période attendue au format AAAA-MM.")
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
    journal(
        session,
        plan,
        "created",
        now=now,
        actor=actor,
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
        raise InvoiceInvalid(
            {
                "contract": msg(
                    "Le contrat {contract_number} a déjà son plan.", contract_number=contract.number
                )
            }
        )
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
        lines=[line_input(p) for p in recurring],
        setup_fees=[(line_input(p), p.bill_period or "") for p in once],
    )


def period_lines(plan: BillingPlan, period: rules.Period) -> list[LineInput]:
    """What the plan bills for ``period``: its recurring lines (pro rata on a partial first
    period) when a period begins then, and the one-off lines scheduled for that month."""
    lines: list[LineInput] = []
    bounds = rules.plan_period_bounds(plan.frequency.value, plan.start_date, period)
    if bounds is not None:
        begin, end = bounds
        fraction = rules.pro_rata(plan.frequency.value, begin, end, period)
        span = f"du {format_date(begin)} au {format_date(end)}"
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
        line_input(line)
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
            and not billed(session, plan.id, str(period))
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


def list_plans(session: Session) -> Sequence[BillingPlan]:
    return session.scalars(select(BillingPlan).order_by(BillingPlan.id)).unique().all()


def get_plan(session: Session, plan_id: int) -> BillingPlan:
    plan = session.get(BillingPlan, plan_id)
    if plan is None:
        raise InvoiceNotFound(msg("Plan de facturation n° {plan_id} introuvable.", plan_id=plan_id))
    return plan


def billed(session: Session, plan_id: int, period: str) -> bool:
    found = session.scalar(
        select(Invoice.id).where(Invoice.plan_id == plan_id, Invoice.period == period)
    )
    return found is not None


def plan_invoices(session: Session, plan: BillingPlan) -> Sequence[Invoice]:
    return session.scalars(
        select(Invoice).where(Invoice.plan_id == plan.id).order_by(Invoice.id)
    ).all()


def signed_contracts(session: Session, *, without_plan: bool = False) -> Sequence[Contract]:
    """The contracts whose latest version is signed (the ones that can be billed), with
    their client; ``without_plan``: only those that have no billing plan yet."""
    latest = (
        select(ContractVersion.contract_id, func.max(ContractVersion.version).label("version"))
        .group_by(ContractVersion.contract_id)
        .subquery()
    )
    query = (
        select(Contract)
        .join(latest, latest.c.contract_id == Contract.id)
        .join(
            ContractVersion,
            (ContractVersion.contract_id == Contract.id)
            & (ContractVersion.version == latest.c.version),
        )
        .where(ContractVersion.status == VersionStatus.SIGNED)
        .order_by(Contract.id)
    )
    if without_plan:
        query = query.where(
            ~select(BillingPlan.id).where(BillingPlan.contract_id == Contract.id).exists()
        )
    return session.scalars(query).all()
