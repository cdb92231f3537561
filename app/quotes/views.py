from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from app.auth.guards import require, signed_in_user
from app.auth.rules import Permission
from app.clients.services import get_client
from app.clock import business_date
from app.db import utcnow
from app.forms import apply_field_errors
from app.pricing.decimals import parse_decimal
from app.pricing.discounts import NO_DISCOUNT, parse_discount
from app.pricing.forms import attach_line_errors
from app.pricing.lines import LineInput
from app.quotes import services
from app.quotes.catalogue import TypedLine, product_choices, with_product_defaults
from app.quotes.commercial_terms import (
    BillingPeriod,
    CommercialTerms,
    CommitmentPlan,
    PaymentMethod,
    parse_schedule,
    with_preset,
)
from app.quotes.errors import ProductInvalid, QuoteInvalid
from app.quotes.forms import LineForm, ProductForm, QuoteForm, filled_lines
from app.quotes.models import Product, ProductKind
from app.quotes.rules import MAX_LINES
from app.wiring import db_session, unit_of_work

bp = Blueprint("quotes", __name__, url_prefix="/devis")


def _parse_lines(
    form: QuoteForm, catalogue: dict[str, Product]
) -> tuple[list[LineInput], list[LineForm], bool]:
    """Non-blank lines, the sub-forms they came from, and whether any field was unreadable.

    A line picked from the catalogue takes the product's VAT rate, and its designation, unit
    and price when those are left blank (they stay editable)."""
    lines: list[LineInput] = []
    sources: list[LineForm] = []
    unreadable = False
    for sub in filled_lines(form.lines):
        product = catalogue.get(sub.product.data or "")
        if (sub.product.data or "") and product is None:
            sub.product.errors = list(sub.product.errors) or [
                "Produit inconnu ou retiré du catalogue."
            ]
            unreadable = True
            continue
        typed = TypedLine(
            designation=sub.designation.data or "",
            unit=sub.unit.data or "",
            unit_price=sub.unit_price.data or "",
            vat_rate=sub.vat_rate.data or "",
        )
        if product is not None:
            typed = with_product_defaults(typed, product)
        figures = sub.figures(
            typed.unit_price, typed.vat_rate, price_hint="Indiquez un prix (ex. 1 250,00)."
        )
        discount = parse_discount(sub.discount_kind.data or "", sub.discount_value.data or "")
        if discount is None:
            sub.discount_value.errors = list(sub.discount_value.errors) or [
                "Indiquez une remise (ex. 10 ou 150,00)."
            ]
        if figures is None or discount is None:
            unreadable = True
            continue
        product_id = product.id if product is not None else None
        lines.append(LineInput(typed.designation, *figures, discount, typed.unit, product_id))
        sources.append(sub)
    return lines, sources, unreadable


def _parse_terms(form: QuoteForm) -> CommercialTerms | None:
    """The commercial terms, or None with field errors set when a field is unreadable (a field
    the form's validation refused keeps that reason)."""
    ok = True
    numbers: dict[str, int] = {}
    for name in ("commitment_months", "payment_terms_days", "notice_months"):
        field = form._fields[name]
        raw = (field.data or "").strip()
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 4:
            field.errors = list(field.errors) or ["Indiquez un nombre entier."]
            ok = False
        else:
            numbers[name] = int(raw)
    schedule = parse_schedule(form.setup_schedule.data or "")
    if schedule is None:
        form.setup_schedule.errors = list(form.setup_schedule.errors) or [
            "Écrivez « 50 % avant la mise en service\u202f; 50 % après la mise en service ».",
        ]
        ok = False
    try:
        plan = CommitmentPlan(form.plan.data or "")
        billing = BillingPeriod(form.billing_period.data or "")
        method = PaymentMethod(form.payment_method.data or "")
    except ValueError:
        form.plan.errors = list(form.plan.errors) or ["Choix inconnu."]
        ok = False
    if not ok or schedule is None:
        return None
    typed = CommercialTerms(
        commitment_months=numbers["commitment_months"],
        billing_period=billing,
        payment_method=method,
        payment_terms_days=numbers["payment_terms_days"],
        tacit_renewal=bool(form.tacit_renewal.data),
        notice_months=numbers["notice_months"],
        setup_schedule=schedule,
    )
    return with_preset(typed, plan)


def _not_yet_faulted(
    form: QuoteForm, sources: list[LineForm], problems: dict[str, str]
) -> dict[str, str]:
    """The service's problems about fields the form has not already refused (a field shows
    one problem: why it cannot be read comes before what its value would break); a line's
    are keyed ``lines-<i>-<field>``, ``i`` counting the lines checked (``sources``)."""
    faulted = {name for name, field in form._fields.items() if field.errors}
    if any(field.errors for entry in form.lines.entries for field in entry.form):
        faulted.add("lines")  # a line was typed, unreadable: not « at least one line »
    faulted.update(
        f"lines-{index}-{name}"
        for index, sub in enumerate(sources)
        for name, field in sub._fields.items()
        if field.errors
    )
    return {key: message for key, message in problems.items() if key not in faulted}


def _render_new(
    form: QuoteForm, client: object, catalogue: Mapping[str, Product], status: int = 200
) -> tuple[str, int]:
    # what a catalogue line is worth while its price and VAT fields are left empty: the live
    # totals (static/quote-totals.js) read it, as the server fills the line on saving
    prices = {
        key: {"price": f"{p.unit_price:f}", "vat": f"{p.vat_rate:f}"}
        for key, p in catalogue.items()
    }
    page = render_template(
        "quotes/new.html", form=form, client=client, preview=None, catalogue_prices=prices
    )
    return page, status


@bp.route("/nouveau/<int:client_id>", methods=["GET", "POST"])
@require(Permission.MANAGE_QUOTES)
def new(client_id: int) -> str | Response | tuple[str, int]:
    db = db_session()
    client = get_client(db, client_id)
    products = services.list_products(db, active_only=True)
    catalogue = {str(p.id): p for p in products}
    form = QuoteForm()
    choices = product_choices(products)
    for entry in form.lines.entries:
        entry.form.product.choices = choices
    if form.add_line.data:
        if len(form.lines.entries) >= MAX_LINES:
            form.form_errors = [f"{MAX_LINES} lignes au maximum."]
            return _render_new(form, client, catalogue, 422)
        form.lines.append_entry()
        form.lines.entries[-1].form.product.choices = choices
        return _render_new(form, client, catalogue)
    if form.is_submitted():
        # Every field is read even when one is refused: one submission names every problem
        # (the summary at the top of the page lists them all).
        valid = form.validate()
        lines, sources, unreadable = _parse_lines(form, catalogue)
        terms = _parse_terms(form)
        global_discount = parse_discount(
            form.global_discount_kind.data or "", form.global_discount_value.data or ""
        )
        if global_discount is None:
            form.global_discount_value.errors = list(form.global_discount_value.errors) or [
                "Indiquez une remise (ex. 10 ou 150,00)."
            ]
        now = utcnow()
        if not valid or unreadable or terms is None or global_discount is None:
            # what the readable fields would still be refused for, the service says it
            problems = services.check_quote(
                db,
                client=client,
                lines=lines,
                particular_terms=form.particular_terms.data or "",
                today=business_date(now),
                valid_until=form.valid_until.data,
                global_discount=global_discount or NO_DISCOUNT,
                terms=terms,
            )
            attach_line_errors(form, sources, _not_yet_faulted(form, sources, problems))
        else:
            user = signed_in_user()
            try:
                with unit_of_work() as work:
                    quote = services.create_quote(
                        work,
                        client=client,
                        lines=lines,
                        particular_terms=form.particular_terms.data or "",
                        today=business_date(now),
                        now=now,
                        actor=f"user:{user.id}",
                        created_by_id=user.id,
                        valid_until=form.valid_until.data,
                        global_discount=global_discount,
                        terms=terms,
                    )
            except QuoteInvalid as exc:
                attach_line_errors(form, sources, exc.errors)
            else:
                flash(f"Devis {quote.number} enregistré.", "success")
                return redirect(url_for("overview.quote", quote_id=quote.id))
        return _render_new(form, client, catalogue, 422)
    form.valid_until.data = business_date(utcnow()) + timedelta(days=services.DEFAULT_VALIDITY_DAYS)
    return _render_new(form, client, catalogue)


# --- Catalogue (admins) ----------------------------------------------------------------------


def _product_input(form: ProductForm) -> services.ProductInput | None:
    """None, with field errors, when the price (only blanks) or the VAT rate is missing; an
    unreadable price is refused by its field."""
    price = form.unit_price.data
    vat = parse_decimal(form.vat_rate.data or "")
    if price is None:
        form.unit_price.errors = [*form.unit_price.errors, "Indiquez un prix (ex. 1 250,00)."]
    if vat is None:
        form.vat_rate.errors = [*form.vat_rate.errors, "Taux de TVA inconnu."]
    if price is None or vat is None:
        return None
    return services.ProductInput(
        code=form.code.data or "",
        kind=ProductKind(form.kind.data),
        name=form.name.data or "",
        unit=form.unit.data or "",
        unit_price=price,
        vat_rate=vat,
    )


def _save_product(
    form: ProductForm,
    save: Callable[[Session, services.ProductInput, str], Product],
    done: str,
) -> Response | None:
    """The catalogue form's submission, written by `save` in one unit of work: the redirect
    to the catalogue once saved (flashing `done`, given the product's code), or None with
    every refusal on the form's fields."""
    data = _product_input(form)
    if data is None:
        return None
    user = signed_in_user()
    try:
        with unit_of_work() as work:
            product = save(work, data, f"user:{user.id}")
    except ProductInvalid as exc:
        apply_field_errors(form, exc)
        return None
    flash(done.format(code=product.code), "success")
    return redirect(url_for("quotes.catalogue"))


@bp.route("/catalogue", methods=["GET", "POST"])
@require(Permission.MANAGE_CATALOGUE)
def catalogue() -> str | Response | tuple[str, int]:
    db = db_session()
    form = ProductForm()
    status = 200
    if form.validate_on_submit():
        saved = _save_product(
            form,
            lambda work, data, actor: services.create_product(
                work, data, now=utcnow(), actor=actor
            ),
            "Produit {code} ajouté au catalogue.",
        )
        if saved is not None:
            return saved
        status = 422
    elif form.is_submitted():
        status = 422
    products = services.list_products(db)
    return render_template("quotes/catalogue.html", form=form, products=products), status


@bp.route("/catalogue/<int:product_id>", methods=["GET", "POST"])
@require(Permission.MANAGE_CATALOGUE)
def edit_product(product_id: int) -> str | Response | tuple[str, int]:
    db = db_session()
    product = services.get_product(db, product_id)
    form = ProductForm()
    if not form.is_submitted():
        form.process(obj=product)
        form.kind.data = product.kind.value
        form.vat_rate.data = str(product.vat_rate.normalize())
    status = 200
    if form.validate_on_submit():
        saved = _save_product(
            form,
            lambda work, data, actor: services.update_product(
                work, product, data, active=bool(form.active.data), now=utcnow(), actor=actor
            ),
            "Produit {code} modifié.",
        )
        if saved is not None:
            return saved
        status = 422
    elif form.is_submitted():
        status = 422
    return render_template("quotes/product.html", form=form, product=product), status
