"""Creating quotes; the product catalogue."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import services as audit
from app.clients.models import Client, ClientStatus
from app.events import recording as events
from app.events.recording import Resource
from app.messages import msg
from app.numbering.services import next_number
from app.pricing.discounts import NO_DISCOUNT, Discount
from app.pricing.lines import LineInput
from app.pricing.problems import QUOTE_LINES, field_problems
from app.pricing.totals import Totals, compute_totals
from app.printable import typed_text
from app.quotes.commercial_terms import CommercialTerms, SetupInstalment, terms_problems
from app.quotes.errors import ProductInvalid, ProductNotFound, QuoteInvalid, QuoteNotFound
from app.quotes.models import (
    Product,
    ProductKind,
    Quote,
    QuoteLine,
    QuoteStatus,
    SetupFeeInstalment,
)
from app.quotes.rules import quote_problems

DEFAULT_VALIDITY_DAYS = 30
MAX_VALIDITY_DAYS = 365


def create_quote(
    session: Session,
    *,
    client: Client,
    lines: Sequence[LineInput],
    particular_terms: str,
    today: date,
    now: datetime,
    actor: str,
    created_by_id: int | None = None,
    validity_days: int = DEFAULT_VALIDITY_DAYS,
    valid_until: date | None = None,
    global_discount: Discount = NO_DISCOUNT,
    terms: CommercialTerms | None = None,
) -> Quote:
    """A numbered quote. Everything is checked before the number is taken: a refusal raises
    ``QuoteInvalid`` (one message per field) and writes nothing."""
    terms = terms or CommercialTerms()
    errors = check_quote(
        session,
        client=client,
        lines=lines,
        particular_terms=particular_terms,
        today=today,
        validity_days=validity_days,
        valid_until=valid_until,
        global_discount=global_discount,
        terms=terms,
    )
    if errors:
        raise QuoteInvalid(errors)
    until = valid_until or today + timedelta(days=validity_days)
    quote = Quote(
        number=next_number(session, "DEV", today.year),
        client_id=client.id,
        client=client,
        status=QuoteStatus.DRAFT,
        issued_on=today,
        valid_until=until,
        particular_terms=typed_text(particular_terms),
        created_at=now,
        created_by_id=created_by_id,
        global_discount_kind=global_discount.kind,
        global_discount_value=global_discount.value,
        commitment_months=terms.commitment_months,
        billing_period=terms.billing_period,
        payment_method=terms.payment_method,
        payment_terms_days=terms.payment_terms_days,
        tacit_renewal=terms.tacit_renewal,
        notice_months=terms.notice_months,
    )
    quote.lines = [
        QuoteLine(
            position=index + 1,
            designation=line.designation.strip(),
            quantity=line.quantity,
            unit_price=line.unit_price,
            vat_rate=line.vat_rate,
            unit=line.unit.strip(),
            product_id=line.product_id,
            discount_kind=line.discount.kind,
            discount_value=line.discount.value,
        )
        for index, line in enumerate(lines)
    ]
    quote.setup_schedule = [
        SetupFeeInstalment(position=index + 1, percent=s.percent, milestone=s.milestone.strip())
        for index, s in enumerate(terms.setup_schedule)
    ]
    session.add(quote)
    session.flush()
    audit.record(
        session,
        now=now,
        actor=actor,
        action="quote.created",
        subject_type="quote",
        subject_id=quote.number,
        client_id=client.id,
    )
    events.record(
        session,
        "quote.created",
        Resource("quote", quote.id, f"/api/v1/quotes/{quote.id}"),
        {"number": quote.number, "client_id": client.id},
        now=now,
    )
    return quote


def check_quote(
    session: Session,
    *,
    client: Client,
    lines: Sequence[LineInput],
    particular_terms: str,
    today: date,
    validity_days: int = DEFAULT_VALIDITY_DAYS,
    valid_until: date | None = None,
    global_discount: Discount = NO_DISCOUNT,
    terms: CommercialTerms | None = None,
) -> dict[str, str]:
    """Every problem ``create_quote`` would refuse, keyed like the form's fields, without
    writing anything: the form also asks it when some other field is unreadable, so that one
    submission names every problem."""
    errors = quote_problems(lines, particular_terms, global_discount)
    errors.update(terms_problems(terms or CommercialTerms()))
    until = valid_until or today + timedelta(days=validity_days)
    if until < today:
        errors["valid_until"] = msg("Cette date est passée : le devis serait déjà expiré.")
    elif until > today + timedelta(days=MAX_VALIDITY_DAYS):
        errors["valid_until"] = msg(
            "Validité de {max_validity_days} jours au maximum.", max_validity_days=MAX_VALIDITY_DAYS
        )
    product_ids = {line.product_id for line in lines if line.product_id is not None}
    if product_ids:
        known = set(session.scalars(select(Product.id).where(Product.id.in_(product_ids))))
        for index, line in enumerate(lines):
            if line.product_id is not None and line.product_id not in known:
                errors[f"lines-{index}-product"] = msg("Produit inconnu.")
    if client.status is not ClientStatus.ACTIVE:
        errors["client"] = msg("Ce client est résilié : aucun nouveau devis possible.")
    return errors


def line_inputs(quote: Quote) -> list[LineInput]:
    return [
        LineInput(
            line.designation,
            line.quantity,
            line.unit_price,
            line.vat_rate,
            Discount(line.discount_kind, line.discount_value),
            line.unit,
            line.product_id,
        )
        for line in quote.lines
    ]


def global_discount_of(quote: Quote) -> Discount:
    return Discount(quote.global_discount_kind, quote.global_discount_value)


def totals_of(quote: Quote) -> Totals:
    """The ONE place quote figures come from (web page, PDF, DOCX, API)."""
    return compute_totals(line_inputs(quote), global_discount_of(quote))


def terms_of(quote: Quote) -> CommercialTerms:
    return CommercialTerms(
        commitment_months=quote.commitment_months,
        billing_period=quote.billing_period,
        payment_method=quote.payment_method,
        payment_terms_days=quote.payment_terms_days,
        tacit_renewal=quote.tacit_renewal,
        notice_months=quote.notice_months,
        setup_schedule=tuple(SetupInstalment(s.percent, s.milestone) for s in quote.setup_schedule),
    )


def is_expired(quote: Quote, today: date) -> bool:
    return quote.valid_until < today


def get_quote(session: Session, quote_id: int) -> Quote:
    quote = session.get(Quote, quote_id)
    if quote is None:
        raise QuoteNotFound(msg("Devis n° {quote_id} introuvable.", quote_id=quote_id))
    return quote


def quotes_of(session: Session, client_id: int) -> list[Quote]:
    return list(
        session.scalars(select(Quote).where(Quote.client_id == client_id).order_by(Quote.id.desc()))
    )


def quotes_awaiting_contract(session: Session, today: date) -> list[Quote]:
    """Draft quotes still valid on ``today``, oldest first: what a bulk generation takes."""
    return list(
        session.scalars(
            select(Quote)
            .where(Quote.status == QuoteStatus.DRAFT, Quote.valid_until >= today)
            .order_by(Quote.id)
        )
    )


def quote_by_number(session: Session, number: str) -> Quote:
    quote = session.scalars(select(Quote).where(Quote.number == number)).first()
    if quote is None:
        raise QuoteNotFound(msg("Devis {number} introuvable.", number=number))
    return quote


# --- Catalogue -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductInput:
    code: str
    kind: ProductKind
    name: str
    unit: str
    unit_price: Decimal
    vat_rate: Decimal


MAX_CODE = 40


def _product_problems(
    session: Session, data: ProductInput, product_id: int | None
) -> dict[str, str]:
    problems: dict[str, str] = {}
    code = data.code.strip()
    if not code:
        problems["code"] = msg("Le code est obligatoire.")
    elif len(code) > MAX_CODE or not all(c.isalnum() or c in "-_." for c in code):
        problems["code"] = msg(
            "Lettres, chiffres, « - », « _ » ou « . », {max_code} au maximum.", max_code=MAX_CODE
        )
    else:
        clash = session.scalar(select(Product.id).where(Product.code == code))
        if clash is not None and clash != product_id:
            problems["code"] = msg("Ce code est déjà utilisé.")
    line = LineInput(data.name, Decimal("1"), data.unit_price, data.vat_rate, unit=data.unit)
    renamed = {"designation": "name"}
    for name, message in field_problems(line, QUOTE_LINES).items():
        problems[renamed.get(name, name)] = message
    if not data.unit.strip():
        problems["unit"] = msg("L'unité est obligatoire (mois, jour, forfait…).")
    return problems


def create_product(session: Session, data: ProductInput, *, now: datetime, actor: str) -> Product:
    if problems := _product_problems(session, data, None):
        raise ProductInvalid(problems)
    product = Product(active=True, created_at=now)
    _copy_input(product, data)
    session.add(product)
    _stored(session, product, "product.created", now=now, actor=actor)
    return product


def update_product(
    session: Session,
    product: Product,
    data: ProductInput,
    *,
    active: bool,
    now: datetime,
    actor: str,
) -> Product:
    """Change a catalogue item; quotes already made keep the values they copied."""
    if problems := _product_problems(session, data, product.id):
        raise ProductInvalid(problems)
    _copy_input(product, data)
    product.active = active
    _stored(session, product, "product.updated", now=now, actor=actor)
    return product


def _copy_input(product: Product, data: ProductInput) -> None:
    """The form's values as a catalogue item keeps them, at creation and at each change alike."""
    product.code = data.code.strip()
    product.kind = data.kind
    product.name = data.name.strip()
    product.unit = data.unit.strip()
    product.unit_price = data.unit_price
    product.vat_rate = data.vat_rate


def _stored(session: Session, item: Product, action: str, *, now: datetime, actor: str) -> None:
    """Write the item and journal it under its code (the code, not the id, is what people and
    quotes know it by)."""
    session.flush()
    audit.record(
        session, now=now, actor=actor, action=action, subject_type="product", subject_id=item.code
    )


def get_product(session: Session, product_id: int) -> Product:
    product = session.get(Product, product_id)
    if product is None:
        raise ProductNotFound(msg("Produit n° {product_id} introuvable.", product_id=product_id))
    return product


def list_products(session: Session, *, active_only: bool = False) -> list[Product]:
    query = select(Product).order_by(Product.kind, Product.name)
    if active_only:
        query = query.where(Product.active.is_(True))
    return list(session.scalars(query))
