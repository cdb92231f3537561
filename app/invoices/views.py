from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from app.auth.guards import current_user, require
from app.auth.rules import Permission
from app.clients.models import Client, ClientStatus
from app.clients.services import get_client
from app.clock import business_date
from app.contracts.models import Contract, VersionStatus
from app.db import utcnow
from app.documents.models import Document
from app.documents.serving import checked_bytes
from app.errors import DomainError, FieldErrors
from app.forms import apply_field_errors
from app.invoices import issuing, payments, pdfs, plans, revision
from app.invoices.document import credit_note_document, render_invoice_pdf
from app.invoices.errors import RateMissing
from app.invoices.forms import (
    CreditNoteForm,
    ManualInvoiceForm,
    PaymentForm,
    PlanFromContractForm,
    ReferenceRateForm,
    RevisionClauseForm,
    RevisionForm,
    SyntecIndexForm,
)
from app.invoices.models import Invoice, RateKind
from app.invoices.rules import MAX_LINES
from app.invoices.sealing import invoice_sealer
from app.quotes import rules as quote_rules
from app.quotes.forms import LineForm
from app.rendering.french import format_decimal, format_percent
from app.wiring import db_session, runtime

bp = Blueprint("invoices", __name__, url_prefix="/factures")


@bp.route("/")
@require(Permission.VIEW_INVOICES)
def index() -> str:
    return render_template("invoices/index.html", invoices=issuing.list_invoices(db_session()))


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
                invoice = issuing.issue_invoice(
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
    return _show(invoice_id, _credit_form(issuing.get_invoice(db_session(), invoice_id)))


def _show(invoice_id: int, credit_form: CreditNoteForm) -> str:
    db = db_session()
    invoice = issuing.get_invoice(db, invoice_id)
    return render_template(
        "invoices/show.html",
        invoice=invoice,
        totals=issuing.totals_of(invoice),
        due=payments.amount_due(db, invoice),
        form=PaymentForm(),
        credit_form=credit_form,
    )


def _credit_form(invoice: Invoice) -> CreditNoteForm:
    form = CreditNoteForm()
    rates = sorted({line.vat_rate for line in invoice.lines}, reverse=True)
    form.vat_rate.choices = [
        SelectChoice(format(r.normalize(), "f"), format_percent(r)) for r in rates
    ]
    return form


@bp.route("/<int:invoice_id>/paiement", methods=["POST"])
@require(Permission.RECORD_PAYMENTS)
def payment(invoice_id: int) -> Response:
    db = db_session()
    invoice = issuing.get_invoice(db, invoice_id)
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
            payments.record_failed_debit(db, charge_fee=bool(form.charge_fee.data), **common)
        else:
            amount = quote_rules.parse_decimal(form.amount.data or "")
            if amount is None:
                flash("Indiquez le montant reçu (ex. 1 250,00).", "error")
                return back
            payments.record_payment(db, amount=amount, **common)
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
        rows, problem = payments.overdue_invoices(db, today), None
    except RateMissing as exc:
        rows, problem = [], exc.detail
    return render_template("invoices/overdue.html", rows=rows, problem=problem, today=today)


def _archive(invoice_id: int) -> None:
    """Render the Factur-X PDF after the issuing commit (the number lock is released), then
    archive it in a second transaction."""
    db = db_session()
    rt = runtime()
    invoice = issuing.get_invoice(db, invoice_id)
    now = utcnow()
    pdf = _sealed(render_invoice_pdf(pdfs.invoice_document(db, invoice, rt.settings.vendor)), now)
    pdfs.archive_invoice(db, rt.store, invoice, pdf, now=now, actor="system")
    db.commit()


def _sealed(pdf: bytes, now: datetime) -> bytes:
    """The platform's seal on an invoice or credit note PDF, when the setting asks for it."""
    seal = invoice_sealer(runtime(), now)
    return pdf if seal is None else seal(pdf)


def _inline_pdf(document: Document) -> Response:
    """An archived PDF, read through the archive (integrity checked, access journaled)."""
    db = db_session()
    user = current_user()
    assert user is not None
    data = checked_bytes(db, runtime().store, document, actor=f"user:{user.id}")
    return Response(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{document.filename}"'},
    )


@bp.route("/<int:invoice_id>/pdf")
@require(Permission.VIEW_INVOICES)
def pdf(invoice_id: int) -> Response:
    db = db_session()
    invoice = issuing.get_invoice(db, invoice_id)
    if invoice.document is None:
        # issued, but its PDF was not produced (a crash between the two transactions):
        # produce it now, from the immutable rows
        _archive(invoice_id)
        db.refresh(invoice)
    if invoice.document is None:
        abort(404)
    return _inline_pdf(invoice.document)


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
            row = revision.set_syntec_index(
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
    indices = revision.syntec_indices(db)
    return render_template("invoices/syntec.html", form=form, indices=indices), status


@bp.route("/<int:invoice_id>/avoir", methods=["POST"])
@require(Permission.ISSUE_INVOICES)
def credit_note(invoice_id: int) -> str | Response | tuple[str, int]:
    """Issue an avoir: the whole invoice (cancellation) or one amount at one of its VAT
    rates. Refusals (nothing left to credit, missing reason, unreadable amount) come back as
    field errors on the invoice page; no number is taken."""
    db = db_session()
    invoice = issuing.get_invoice(db, invoice_id)
    form = _credit_form(invoice)
    if not form.validate_on_submit():
        return _show(invoice_id, form), 422
    lines: list[quote_rules.LineInput] | None = None
    if form.mode.data == "partial":
        amount = quote_rules.parse_decimal(form.amount.data or "")
        vat = quote_rules.parse_decimal(form.vat_rate.data or "")
        if amount is None or amount <= 0:
            form.amount.errors = ["Indiquez le montant HT à créditer, positif (ex. 250,00)."]
        if not (form.designation.data or "").strip():
            form.designation.errors = ["Indiquez ce que l'avoir crédite."]
        if vat is None:
            form.vat_rate.errors = ["Choisissez un des taux de TVA de la facture."]
        if amount is None or vat is None or form.amount.errors or form.designation.errors:
            return _show(invoice_id, form), 422
        lines = [
            quote_rules.LineInput((form.designation.data or "").strip(), Decimal("1"), amount, vat)
        ]
    user = current_user()
    assert user is not None
    try:
        note = issuing.issue_credit_note(
            db,
            invoice=invoice,
            reason=form.reason.data or "",
            lines=lines,
            now=utcnow(),
            actor=f"user:{user.id}",
            created_by_id=user.id,
        )
    except FieldErrors as exc:
        db.rollback()
        for key, message in exc.errors.items():
            field = {"reason": form.reason}.get(key, form.amount)
            field.errors = [*field.errors, message]
        return _show(invoice_id, form), 422
    db.commit()
    _archive_credit_note(note.id)
    flash(f"Avoir {note.number} émis sur la facture {invoice.number}.", "success")
    return redirect(url_for("invoices.show", invoice_id=invoice_id))


def _archive_credit_note(note_id: int) -> None:
    """Render the avoir's Factur-X PDF after the issuing commit, then archive it."""
    db = db_session()
    rt = runtime()
    note = issuing.get_credit_note(db, note_id)
    now = utcnow()
    pdf = _sealed(render_invoice_pdf(credit_note_document(note, rt.settings.vendor)), now)
    pdfs.archive_credit_note(db, rt.store, note, pdf, now=now, actor="system")
    db.commit()


@bp.route("/avoirs/<int:note_id>/pdf")
@require(Permission.VIEW_INVOICES)
def credit_note_pdf(note_id: int) -> Response:
    db = db_session()
    note = issuing.get_credit_note(db, note_id)
    if note.document_id is None:
        _archive_credit_note(note_id)  # issued, PDF not produced yet (crash in between)
        db.refresh(note)
    document = db.get(Document, note.document_id) if note.document_id else None
    if document is None:
        abort(404)
    return _inline_pdf(document)


# --- billing plans and their Syntec revision ---------------------------------------------


@bp.route("/plans", endpoint="plans")
@require(Permission.VIEW_INVOICES)
def plans_page() -> str:
    return _plans_page(_plan_form())


def _plan_form() -> PlanFromContractForm:
    db = db_session()
    form = PlanFromContractForm()
    planned = {plan.contract_id for plan in plans.list_plans(db)}
    form.contract_id.choices = [
        SelectChoice(c.id, f"{c.number} — {c.client.legal_name}")
        for c in db.query(Contract).order_by(Contract.id)
        if c.versions and c.latest.status == VersionStatus.SIGNED and c.id not in planned
    ]
    if form.start_date.data is None:
        today = business_date(utcnow())
        form.start_date.data = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
    return form


def _plans_page(form: PlanFromContractForm) -> str:
    db = db_session()
    rows = [(plan, revision.revision_clause_of(db, plan)) for plan in plans.list_plans(db)]
    return render_template("invoices/plans.html", rows=rows, form=form)


@bp.route("/plans/nouveau", methods=["POST"])
@require(Permission.ISSUE_INVOICES)
def new_plan() -> str | Response | tuple[str, int]:
    """A signed contract's plan, filled from its quote's commercial terms (frequency,
    payment, amounts per period, setup-fee schedule: ``rules.plan_lines``)."""
    db = db_session()
    form = _plan_form()
    if not form.validate_on_submit() or form.start_date.data is None:
        return _plans_page(form), 422
    user = current_user()
    assert user is not None
    contract = db.get(Contract, form.contract_id.data)
    if contract is None:  # the choices hold existing contracts only
        abort(404)
    try:
        plan = plans.create_plan_from_contract(
            db,
            contract=contract,
            start_date=form.start_date.data,
            now=utcnow(),
            actor=f"user:{user.id}",
        )
    except FieldErrors as exc:
        db.rollback()
        apply_field_errors(form, exc)
        return _plans_page(form), 422
    db.commit()
    flash(f"Plan de facturation n° {plan.id} créé.", "success")
    return redirect(url_for("invoices.plan", plan_id=plan.id))


@bp.route("/plans/<int:plan_id>")
@require(Permission.VIEW_INVOICES)
def plan(plan_id: int) -> str:
    return _plan_page(plan_id)


def _plan_page(
    plan_id: int,
    *,
    clause_form: RevisionClauseForm | None = None,
    revision_form: RevisionForm | None = None,
    preview: revision.RevisionPreview | None = None,
) -> str:
    db = db_session()
    plan = plans.get_plan(db, plan_id)
    clause = revision.revision_clause_of(db, plan)
    if clause_form is None:
        clause_form = RevisionClauseForm()
        if clause is not None:
            clause_form.base_month.data = clause.base_month
            clause_form.reference_month.data = clause.reference_month
            clause_form.cap_percent.data = (
                format_decimal(clause.cap_percent) if clause.cap_percent is not None else ""
            )
            clause_form.no_decrease.data = clause.no_decrease
    return render_template(
        "invoices/plan.html",
        plan=plan,
        contract=db.get(Contract, plan.contract_id),
        clause=clause,
        revisions=revision.revisions_of(db, plan),
        invoices=plans.plan_invoices(db, plan),
        remaining=plans.remaining_due(db, plan),
        clause_form=clause_form,
        revision_form=revision_form or RevisionForm(),
        preview=preview,
    )


@bp.route("/plans/<int:plan_id>/clause", methods=["POST"])
@require(Permission.MANAGE_PRICE_INDICES)
def revision_clause(plan_id: int) -> str | Response | tuple[str, int]:
    db = db_session()
    plan = plans.get_plan(db, plan_id)
    form = RevisionClauseForm()
    if not form.validate_on_submit():
        return _plan_page(plan_id, clause_form=form), 422
    cap = None
    if (form.cap_percent.data or "").strip():
        cap = quote_rules.parse_decimal(form.cap_percent.data or "")
        if cap is None:
            form.cap_percent.errors = ["Indiquez un pourcentage (ex. 3 ou 2,5)."]
            return _plan_page(plan_id, clause_form=form), 422
    try:
        revision.set_revision_clause(
            db,
            plan=plan,
            base_month=(form.base_month.data or "").strip(),
            reference_month=form.reference_month.data or 0,
            cap_percent=cap,
            no_decrease=bool(form.no_decrease.data),
        )
    except FieldErrors as exc:
        db.rollback()
        apply_field_errors(form, exc)
        return _plan_page(plan_id, clause_form=form), 422
    db.commit()
    flash("Clause de révision enregistrée.", "success")
    return redirect(url_for("invoices.plan", plan_id=plan_id))


@bp.route("/plans/<int:plan_id>/revision", methods=["POST"], endpoint="revision")
@require(Permission.MANAGE_PRICE_INDICES)
def revise(plan_id: int) -> str | Response | tuple[str, int]:
    """Preview (nothing written) or apply the revision at a renewal date. A missing index,
    a date that is not the renewal or a revision already applied: a clear message, no
    change."""
    db = db_session()
    plan = plans.get_plan(db, plan_id)
    form = RevisionForm()
    if not form.validate_on_submit() or form.renewal.data is None:
        return _plan_page(plan_id, revision_form=form), 422
    try:
        if form.apply.data:
            user = current_user()
            assert user is not None
            applied = revision.apply_revision(
                db, plan=plan, renewal=form.renewal.data, now=utcnow(), actor=f"user:{user.id}"
            )
        else:
            preview = revision.preview_revision(db, plan=plan, renewal=form.renewal.data)
            return _plan_page(plan_id, revision_form=form, preview=preview)
    except FieldErrors as exc:
        db.rollback()
        apply_field_errors(form, exc)
        return _plan_page(plan_id, revision_form=form), 422
    except DomainError as exc:  # an index not entered yet
        db.rollback()
        form.form_errors = [*form.form_errors, exc.detail]
        return _plan_page(plan_id, revision_form=form), 422
    db.commit()
    flash(f"Révision appliquée : {applied.formula}", "success")
    return redirect(url_for("invoices.plan", plan_id=plan_id))


@bp.route("/taux", methods=["GET", "POST"])
@require(Permission.MANAGE_PRICE_INDICES)
def rates() -> str | Response | tuple[str, int]:
    """The dated ECB and legal interest rates late interest is computed from. A rate, once
    entered for a date, does not change (interest already computed depends on it)."""
    db = db_session()
    form = ReferenceRateForm()
    status = 200
    if form.validate_on_submit() and form.effective_from.data is not None:
        value = quote_rules.parse_decimal(form.rate.data or "")
        try:
            if value is None:
                raise FieldErrors({"rate": "Indiquez un taux en % (ex. 2,15)."})
            row = payments.set_reference_rate(
                db,
                kind=RateKind(form.kind.data),
                effective_from=form.effective_from.data,
                rate=value,
                now=utcnow(),
            )
        except FieldErrors as exc:
            db.rollback()
            apply_field_errors(form, exc)
            status = 422
        else:
            db.commit()
            flash(
                f"{row.kind.label.capitalize()} de {format_decimal(row.rate)} % "
                f"enregistré à partir du {row.effective_from:%d/%m/%Y}.",
                "success",
            )
            return redirect(url_for("invoices.rates"))
    elif form.errors:
        status = 422
    return render_template(
        "invoices/rates.html", form=form, rates=payments.reference_rates(db)
    ), status
