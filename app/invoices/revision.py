"""Price changes on a running plan: the Syntec revision at renewal (P = P0 × S / S0) and a
line changed during a period (the pro rata owed on an upgrade)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.contracts.models import Contract
from app.invoices import rules
from app.invoices.errors import (
    InvoiceInvalid,
    RevisionInvalid,
    SyntecIndexMissing,
)
from app.invoices.issuing import issue_invoice
from app.invoices.journal import journal
from app.invoices.models import (
    BillingPlan,
    Invoice,
    PendingCharge,
    PlanLineKind,
    PriceRevision,
    RevisionClause,
    SyntecIndex,
)
from app.invoices.plans import billed, penalties_of
from app.messages import Day, DayOfYear, msg
from app.pricing.lines import LineInput, line_input
from app.pricing.problems import INVOICE_LINES, field_problems
from app.pricing.totals import line_total
from app.rendering.french import format_date, format_decimal


def revision_clause_of(session: Session, plan: BillingPlan) -> RevisionClause | None:
    return session.scalar(select(RevisionClause).where(RevisionClause.plan_id == plan.id))


def revisions_of(session: Session, plan: BillingPlan) -> Sequence[PriceRevision]:
    return session.scalars(
        select(PriceRevision)
        .where(PriceRevision.plan_id == plan.id)
        .order_by(PriceRevision.renewal_date)
    ).all()


# --- Syntec price revision --------------------------------------------------------------


def set_syntec_index(
    session: Session, *, month: str, value: Decimal, now: datetime, created_by_id: int | None
) -> SyntecIndex:
    parsed = rules.Period.parse(month)
    problems: dict[str, str] = {}
    if parsed is None:
        problems["month"] = msg("Mois attendu au format AAAA-MM.")
    if not value.is_finite() or not Decimal("1") <= value <= Decimal("100000"):
        problems["value"] = msg("Valeur d'indice positive attendue (ex. 298,4).")
    elif value != value.quantize(Decimal("0.01")):
        problems["value"] = msg("2 décimales au maximum.")
    if not problems and session.get(SyntecIndex, str(parsed)) is not None:
        problems["month"] = msg(
            "L'indice de {parsed} est déjà saisi : il ne change plus.", parsed=parsed
        )
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
            msg(
                "Indice Syntec de {month} non saisi : la révision de prix ne peut pas être "
                "calculée. Saisissez-le d'abord (Factures → Indices Syntec).",
                month=month,
            )
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
        problems["base_month"] = msg("Mois attendu au format AAAA-MM.")
    if not 1 <= reference_month <= 12:
        problems["reference_month"] = msg("Mois de référence de 1 à 12.")
    if cap_percent is not None and not Decimal("0") <= cap_percent <= Decimal("100"):
        problems["cap_percent"] = msg("Plafond de 0 à 100 %.")
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
        raise RevisionInvalid({"plan": msg("Ce plan n'a pas de clause de révision Syntec.")})
    if renewal.month != plan.start_date.month or renewal.day != plan.start_date.day:
        raise RevisionInvalid(
            {
                "renewal": msg(
                    "La révision s'applique au renouvellement ({anniversary}).",
                    anniversary=DayOfYear(plan.start_date),
                )
            }
        )
    s_month = str(rules.revision_index_month(clause.reference_month, renewal))
    s0 = syntec_value(session, clause.base_month)
    s = syntec_value(session, s_month)
    factor, applied = rules.revision_factor(s0, s, clause.cap_percent, clause.no_decrease)
    formula = (
        f"Révision de prix au {format_date(renewal)} (indice Syntec) : P = P0 × (S / S0) = "
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
        raise RevisionInvalid({"renewal": msg("Cette révision est déjà appliquée.")})
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
    journal(
        session,
        plan,
        "revised",
        now=now,
        actor=actor,
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
        raise InvoiceInvalid({"position": msg("Ligne récurrente introuvable dans ce plan.")})
    new = LineInput(line.designation, quantity, unit_price, line.vat_rate)
    problems = {k: v for k, v in field_problems(new, INVOICE_LINES).items() if k != "designation"}
    if not problems and unit_price < 0:
        problems["unit_price"] = msg("Le prix unitaire d'une ligne récurrente est positif.")
    period = rules.period_containing(plan.frequency.value, plan.start_date, effective)
    bounds = (
        rules.plan_period_bounds(plan.frequency.value, plan.start_date, period)
        if period is not None
        else None
    )
    if period is None or bounds is None:
        problems["effective"] = msg("La date d'effet précède le début du plan.")
    if problems:
        raise InvoiceInvalid(problems)
    assert period is not None and bounds is not None
    begin, end = bounds
    # The period as the invoice's other lines print it (app.invoices.plans.period_lines): its
    # days in words, never "2026-12", which reads as a code (and for a yearly plan, names only
    # the month the year begins).
    span = f"du {format_date(begin)} au {format_date(end)}"
    old_total = line_total(line_input(line))
    new_total = line_total(new)
    if billed(session, plan.id, str(period)):
        fraction = rules.pro_rata(plan.frequency.value, effective, end, period)
        amount = rules.upgrade_charge(old_total, new_total, fraction)
    elif effective != begin and new_total != old_total:
        raise InvoiceInvalid(
            {
                "effective": (
                    msg(
                        "La période {span} n'est pas encore facturée : la modification doit "
                        "prendre effet le {begin}, ou après la facturation de la "
                        "période.",
                        span=msg("du {first} au {last}", first=Day(begin), last=Day(end)),
                        begin=Day(begin),
                    )
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
                f"du {format_date(effective)} au {format_date(end)} "
                f"({days} jours de la période {span})"
            ),
            amount=amount,
            vat_rate=line.vat_rate,
            created_at=now,
        )
        session.add(charge)
    old = (str(line.quantity), str(line.unit_price))
    line.quantity, line.unit_price = quantity, unit_price
    session.flush()
    journal(
        session,
        plan,
        "line_changed",
        now=now,
        actor=actor,
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
            penalties=penalties_of(plan, None),
        )
    return PlanChange(charge=charge, invoice=invoice)
