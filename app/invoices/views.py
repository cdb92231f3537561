from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from app.archive.services import read_content
from app.auth.guards import current_user, require
from app.auth.rules import Permission
from app.clients.models import Client, ClientStatus
from app.clients.services import get_client
from app.clock import business_date
from app.contracts.models import Contract, VersionStatus
from app.db import utcnow
from app.errors import DomainError, FieldErrors
from app.forms import apply_field_errors
from app.invoices import services
from app.invoices.document import render_invoice_pdf
from app.invoices.errors import RateMissing
from app.invoices.forms import ManualInvoiceForm, PaymentForm, SyntecIndexForm
from app.invoices.rules import MAX_LINES
from app.invoices.sealing import invoice_sealer
from app.quotes import rules as quote_rules
from app.quotes.forms import LineForm
from app.wiring import db_session, runtime

bp = Blueprint("invoices", __name__, url_prefix="/factures")


@bp.route("/")
@require(Permission.VIEW_INVOICES)
def index() -> str:
    return render_template("invoices/index.html", invoices=services.list_invoices(db_session()))


def _choices(form: ManualInvoiceForm) -> None:
    db = db_session()
    clients = db.query(Client).filter(Client.status == ClientStatus.ACTIVE).order_by(Client.id)
    form.client_id.choices = [SelectChoice(c.id, f"{c.legal_name} ({c.siren})") for c in clients]
    contracts = [c for c in db.query(Contract).order_by(Contract.id) if c.versions]
    form.contract_id.choices = [SelectChoice(0, "— aucun —")] + [
        SelectChoice(c.id, f"{c.number} — {c.client.legal_name}")
        for c in contracts
        if c.latest.status == VersionStatus.SIGNED
    ]


def _parse_lines(form: ManualInvoiceForm) -> tuple[list[quote_rules.LineInput], bool]:
    lines: list[quote_rules.LineInput] = []
    unreadable = False
    for entry in form.lines.entries:
        sub: LineForm = entry.form
        if sub.is_blank():
            continue
        quantity = quote_rules.parse_decimal(sub.quantity.data or "")
        price = quote_rules.parse_decimal(sub.unit_price.data or "")
        vat = quote_rules.parse_decimal(sub.vat_rate.data or "")
        if quantity is None:
            sub.quantity.errors = ["Indiquez une quantité (ex. 12 ou 1,5)."]
        if price is None:
            sub.unit_price.errors = ["Indiquez un prix (ex. 1 250,00 ; négatif pour une remise)."]
        if vat is None:
            sub.vat_rate.errors = ["Taux de TVA inconnu."]
        if quantity is None or price is None or vat is None:
            unreadable = True
            continue
        lines.append(quote_rules.LineInput(sub.designation.data or "", quantity, price, vat))
    return lines, unreadable


def _attach(form: ManualInvoiceForm, errors: dict[str, str]) -> None:
    non_blank = [e.form for e in form.lines.entries if not e.form.is_blank()]
    for key, message in errors.items():
        parts = key.split("-")
        if len(parts) == 3 and parts[0] == "lines" and parts[1].isdigit():
            field = non_blank[int(parts[1])]._fields.get(parts[2])
            if field is not None:
                field.errors = [*field.errors, message]
                continue
        field = form._fields.get(key)
        if field is not None and key != "lines":
            field.errors = [*field.errors, message]
        else:
            form.form_errors = [*form.form_errors, message]


@bp.route("/nouvelle", methods=["GET", "POST"])
@require(Permission.ISSUE_INVOICES)
def new() -> str | Response | tuple[str, int]:
    db = db_session()
    form = ManualInvoiceForm()
    _choices(form)
    if form.add_line.data:
        if len(form.lines.entries) < MAX_LINES:
            form.lines.append_entry()
        return render_template("invoices/new.html", form=form)
    if form.validate_on_submit():
        lines, unreadable = _parse_lines(form)
        if not unreadable:
            user = current_user()
            assert user is not None
            try:
                contract = (
                    db.get(Contract, form.contract_id.data) if form.contract_id.data else None
                )
                invoice = services.issue_invoice(
                    db,
                    client=get_client(db, form.client_id.data),
                    contract=contract,
                    lines=lines,
                    payment_terms_days=form.payment_terms_days.data,
                    payment_method=form.payment_method.data,
                    now=utcnow(),
                    actor=f"user:{user.id}",
                    created_by_id=user.id,
                )
            except FieldErrors as exc:
                db.rollback()
                _attach(form, exc.errors)
            except DomainError as exc:
                db.rollback()
                form.form_errors = [*form.form_errors, exc.detail]
            else:
                db.commit()
                _archive(invoice.id)
                flash(f"Facture {invoice.number} émise.", "success")
                return redirect(url_for("invoices.show", invoice_id=invoice.id))
        return render_template("invoices/new.html", form=form), 422
    status = 422 if form.errors else 200
    return render_template("invoices/new.html", form=form), status


@bp.route("/<int:invoice_id>")
@require(Permission.VIEW_INVOICES)
def show(invoice_id: int) -> str:
    db = db_session()
    invoice = services.get_invoice(db, invoice_id)
    return render_template(
        "invoices/show.html",
        invoice=invoice,
        totals=services.totals_of(invoice),
        due=services.amount_due(db, invoice),
        form=PaymentForm(),
    )


@bp.route("/<int:invoice_id>/paiement", methods=["POST"])
@require(Permission.RECORD_PAYMENTS)
def payment(invoice_id: int) -> Response:
    db = db_session()
    invoice = services.get_invoice(db, invoice_id)
    form = PaymentForm()
    back = redirect(url_for("invoices.show", invoice_id=invoice_id))
    if not form.validate_on_submit():
        flash("Indiquez l'événement et sa date.", "error")
        return back
    user = current_user()
    assert user is not None
    common = {
        "invoice": invoice,
        "occurred_on": form.occurred_on.data,
        "now": utcnow(),
        "actor": f"user:{user.id}",
        "created_by_id": user.id,
    }
    try:
        if form.kind.data == "failed":
            services.record_failed_debit(db, charge_fee=bool(form.charge_fee.data), **common)
        else:
            amount = quote_rules.parse_decimal(form.amount.data or "")
            if amount is None:
                flash("Indiquez le montant reçu (ex. 1 250,00).", "error")
                return back
            services.record_payment(db, amount=amount, **common)
    except FieldErrors as exc:
        db.rollback()
        flash(" ".join(exc.errors.values()), "error")
        return back
    db.commit()
    flash("Paiement enregistré.", "success")
    return back


@bp.route("/impayees")
@require(Permission.VIEW_INVOICES)
def overdue() -> str:
    db = db_session()
    today = business_date(utcnow())
    try:
        rows, problem = services.overdue_invoices(db, today), None
    except RateMissing as exc:
        rows, problem = [], exc.detail
    return render_template("invoices/overdue.html", rows=rows, problem=problem, today=today)


def _archive(invoice_id: int) -> None:
    """Render the Factur-X PDF after the issuing commit (the number lock is released), then
    archive it in a second transaction."""
    db = db_session()
    rt = runtime()
    invoice = services.get_invoice(db, invoice_id)
    pdf = render_invoice_pdf(services.invoice_document(db, invoice, rt.settings.vendor))
    now = utcnow()
    seal = invoice_sealer(rt, now)
    if seal is not None:
        pdf = seal(pdf)
    services.archive_invoice(db, rt.store, invoice, pdf, now=now, actor="system")
    db.commit()


@bp.route("/<int:invoice_id>/pdf")
@require(Permission.VIEW_INVOICES)
def pdf(invoice_id: int) -> Response:
    db = db_session()
    invoice = services.get_invoice(db, invoice_id)
    if invoice.document is None:
        # issued, but its PDF was not produced (a crash between the two transactions):
        # produce it now, from the immutable rows
        _archive(invoice_id)
        db.refresh(invoice)
    if invoice.document is None:
        abort(404)
    user = current_user()
    assert user is not None
    data = read_content(
        db, runtime().store, invoice.document, actor=f"user:{user.id}", now=utcnow()
    )
    db.commit()
    return Response(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{invoice.document.filename}"'},
    )


@bp.route("/syntec", methods=["GET", "POST"])
@require(Permission.MANAGE_PRICE_INDICES)
def syntec() -> str | Response | tuple[str, int]:
    db = db_session()
    form = SyntecIndexForm()
    status = 200
    if form.validate_on_submit():
        user = current_user()
        assert user is not None
        value = quote_rules.parse_decimal(form.value.data or "")
        try:
            if value is None:
                raise FieldErrors({"value": "Indiquez une valeur (ex. 298,4)."})
            row = services.set_syntec_index(
                db, month=form.month.data or "", value=value, now=utcnow(), created_by_id=user.id
            )
        except FieldErrors as exc:
            db.rollback()
            apply_field_errors(form, exc)
            status = 422
        else:
            db.commit()
            flash(f"Indice Syntec de {row.month} enregistré.", "success")
            return redirect(url_for("invoices.syntec"))
    elif form.errors:
        status = 422
    indices = services.syntec_indices(db)
    return render_template("invoices/syntec.html", form=form, indices=indices), status
