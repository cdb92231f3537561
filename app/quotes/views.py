from __future__ import annotations

import dataclasses
from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from app.auth.guards import current_user, require
from app.auth.rules import Permission
from app.clients.services import get_client
from app.clock import business_date
from app.db import utcnow
from app.forms import apply_field_errors
from app.quotes import rules, services
from app.quotes.errors import ProductInvalid, QuoteInvalid
from app.quotes.forms import LineForm, ProductForm, QuoteForm
from app.quotes.models import Product, ProductKind
from app.wiring import db_session

bp = Blueprint("quotes", __name__, url_prefix="/devis")


def _discount(kind_raw: str, value_raw: str) -> rules.Discount | None:
    """None when unreadable."""
    try:
        kind = rules.DiscountKind(kind_raw or "none")
    except ValueError:
        return None
    if kind is rules.DiscountKind.NONE:
        return rules.NO_DISCOUNT
    value = rules.parse_decimal(value_raw)
    return None if value is None else rules.Discount(kind, value)


def _parse_lines(
    form: QuoteForm, catalogue: dict[str, Product]
) -> tuple[list[rules.LineInput], list[LineForm], bool]:
    """Non-blank lines, the sub-forms they came from, and whether any field was unreadable.

    A line picked from the catalogue takes the product's VAT rate, and its designation, unit
    and price when those are left blank (they stay editable)."""
    lines: list[rules.LineInput] = []
    sources: list[LineForm] = []
    unreadable = False
    for entry in form.lines.entries:
        sub: LineForm = entry.form
        if sub.is_blank():
            continue
        product = catalogue.get(sub.product.data or "")
        if (sub.product.data or "") and product is None:
            sub.product.errors = ["Produit inconnu ou retiré du catalogue."]
            unreadable = True
            continue
        designation = sub.designation.data or ""
        unit = sub.unit.data or ""
        price_raw = sub.unit_price.data or ""
        vat_raw = sub.vat_rate.data or ""
        if product is not None:
            designation = designation.strip() or product.name
            unit = unit.strip() or product.unit
            price_raw = price_raw.strip() or str(product.unit_price)
            vat_raw = str(product.vat_rate)
        quantity = rules.parse_decimal(sub.quantity.data or "")
        price = rules.parse_decimal(price_raw)
        vat = rules.parse_decimal(vat_raw)
        discount = _discount(sub.discount_kind.data or "", sub.discount_value.data or "")
        if quantity is None:
            sub.quantity.errors = ["Indiquez une quantité (ex. 12 ou 1,5)."]
        if price is None:
            sub.unit_price.errors = ["Indiquez un prix (ex. 1 250,00)."]
        if vat is None:
            sub.vat_rate.errors = ["Taux de TVA inconnu."]
        if discount is None:
            sub.discount_value.errors = ["Indiquez une remise (ex. 10 ou 150,00)."]
        if quantity is None or price is None or vat is None or discount is None:
            unreadable = True
            continue
        lines.append(
            rules.LineInput(
                designation,
                quantity,
                price,
                vat,
                discount,
                unit,
                product.id if product is not None else None,
            )
        )
        sources.append(sub)
    return lines, sources, unreadable


def _parse_terms(form: QuoteForm) -> rules.CommercialTerms | None:
    """The commercial terms, or None with field errors set when a field is unreadable."""
    ok = True
    numbers: dict[str, int] = {}
    for name in ("commitment_months", "payment_terms_days", "notice_months"):
        field = form._fields[name]
        raw = (field.data or "").strip()
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 4:
            field.errors = [*field.errors, "Indiquez un nombre entier."]
            ok = False
        else:
            numbers[name] = int(raw)
    schedule = rules.parse_schedule(form.setup_schedule.data or "")
    if schedule is None:
        form.setup_schedule.errors = [
            *form.setup_schedule.errors,
            "Écrivez « 50 % avant la mise en service; 50 % après la mise en service ».",
        ]
        ok = False
    try:
        plan = rules.CommitmentPlan(form.plan.data or "")
        billing = rules.BillingPeriod(form.billing_period.data or "")
        method = rules.PaymentMethod(form.payment_method.data or "")
    except ValueError:
        form.plan.errors = [*form.plan.errors, "Choix inconnu."]
        ok = False
    if not ok or schedule is None:
        return None
    terms = rules.CommercialTerms(
        commitment_months=numbers["commitment_months"],
        billing_period=billing,
        payment_method=method,
        payment_terms_days=numbers["payment_terms_days"],
        tacit_renewal=bool(form.tacit_renewal.data),
        notice_months=numbers["notice_months"],
        setup_schedule=schedule,
    )
    if plan is not rules.CommitmentPlan.CUSTOM:
        preset = rules.preset_terms(plan)
        terms = dataclasses.replace(
            terms,
            commitment_months=preset.commitment_months,
            billing_period=preset.billing_period,
            payment_method=preset.payment_method,
        )
    return terms


def _render_new(form: QuoteForm, client: object, status: int = 200) -> tuple[str, int]:
    return render_template("quotes/new.html", form=form, client=client, preview=None), status


@bp.route("/nouveau/<int:client_id>", methods=["GET", "POST"])
@require(Permission.MANAGE_QUOTES)
def new(client_id: int) -> str | Response | tuple[str, int]:
    db = db_session()
    client = get_client(db, client_id)
    products = services.list_products(db, active_only=True)
    catalogue = {str(p.id): p for p in products}
    form = QuoteForm()
    choices = [SelectChoice("", "— ligne libre —")] + [
        SelectChoice(str(p.id), f"{p.name} ({p.unit_price} € HT / {p.unit})") for p in products
    ]
    for entry in form.lines.entries:
        entry.form.product.choices = choices
    if form.add_line.data:
        if len(form.lines.entries) >= rules.MAX_LINES:
            form.form_errors = [f"{rules.MAX_LINES} lignes au maximum."]
            return _render_new(form, client, 422)
        form.lines.append_entry()
        form.lines.entries[-1].form.product.choices = choices
        return _render_new(form, client)
    if form.validate_on_submit():
        lines, sources, unreadable = _parse_lines(form, catalogue)
        terms = _parse_terms(form)
        global_discount = _discount(
            form.global_discount_kind.data or "", form.global_discount_value.data or ""
        )
        if global_discount is None:
            form.global_discount_value.errors = ["Indiquez une remise (ex. 10 ou 150,00)."]
        if not unreadable and terms is not None and global_discount is not None:
            user = current_user()
            assert user is not None
            now = utcnow()
            try:
                quote = services.create_quote(
                    db,
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
                db.rollback()
                _attach_errors(form, sources, exc)
            else:
                db.commit()
                flash(f"Devis {quote.number} enregistré.", "success")
                return redirect(url_for("overview.quote", quote_id=quote.id))
        return _render_new(form, client, 422)
    if not form.is_submitted():
        form.valid_until.data = business_date(utcnow()) + timedelta(
            days=services.DEFAULT_VALIDITY_DAYS
        )
    return _render_new(form, client, 422 if form.errors else 200)


def _attach_errors(form: QuoteForm, sources: list[LineForm], exc: QuoteInvalid) -> None:
    for key, message in exc.errors.items():
        parts = key.split("-")
        if len(parts) == 3 and parts[0] == "lines" and parts[1].isdigit():
            sub = sources[int(parts[1])]
            field = sub._fields.get(parts[2])
            if field is not None:
                field.errors = [*field.errors, message]
                continue
        field = form._fields.get(key)
        if field is not None and key not in ("lines",):
            field.errors = [*field.errors, message]
        else:
            form.form_errors = [*form.form_errors, message]


# --- Catalogue (admins) ----------------------------------------------------------------------


def _product_input(form: ProductForm) -> services.ProductInput | None:
    price = rules.parse_decimal(form.unit_price.data or "")
    vat = rules.parse_decimal(form.vat_rate.data or "")
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


@bp.route("/catalogue", methods=["GET", "POST"])
@require(Permission.MANAGE_CATALOGUE)
def catalogue() -> str | Response | tuple[str, int]:
    db = db_session()
    form = ProductForm()
    status = 200
    if form.validate_on_submit():
        data = _product_input(form)
        if data is not None:
            user = current_user()
            assert user is not None
            try:
                product = services.create_product(db, data, now=utcnow(), actor=f"user:{user.id}")
            except ProductInvalid as exc:
                db.rollback()
                apply_field_errors(form, exc)
            else:
                db.commit()
                flash(f"Produit {product.code} ajouté au catalogue.", "success")
                return redirect(url_for("quotes.catalogue"))
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
        form.unit_price.data = str(product.unit_price)
    status = 200
    if form.validate_on_submit():
        data = _product_input(form)
        if data is not None:
            user = current_user()
            assert user is not None
            try:
                services.update_product(
                    db,
                    product,
                    data,
                    active=bool(form.active.data),
                    now=utcnow(),
                    actor=f"user:{user.id}",
                )
            except ProductInvalid as exc:
                db.rollback()
                apply_field_errors(form, exc)
            else:
                db.commit()
                flash(f"Produit {product.code} modifié.", "success")
                return redirect(url_for("quotes.catalogue"))
        status = 422
    elif form.is_submitted():
        status = 422
    return render_template("quotes/product.html", form=form, product=product), status
