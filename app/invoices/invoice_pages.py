"""Invoice and credit-note pages: list, manual invoice, invoice page, payments, overdue
invoices, credit notes, and the downloads of their archived PDFs.

Issuing commits, then enqueues the PDF's production (``tasks.produce_pdf``, run by
``paraphe worker``): the page says "PDF en préparation" and follows it through a small JSON
status (``pdf_status``) until the download link appears; then the mails to the client's
billing contacts, sent by their own jobs: « Envoi en cours… » until each is sent or failed
(``mailing_state``, polled by progress.js). A download only serves the archived
PDF: a GET renders, seals and deposits nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import flash, jsonify, redirect, render_template, url_for
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from app.auth.guards import require, signed_in_user
from app.auth.rules import Permission
from app.clients.services import get_client
from app.clock import business_date
from app.contracts.queries import get_contract
from app.db import utcnow
from app.documents.models import Document
from app.documents.serving import checked_bytes
from app.errors import DomainError, FieldErrors
from app.invoices import issuing, mailing, payments, tasks
from app.invoices.blueprint import bp
from app.invoices.errors import PdfNotProduced, RateMissing
from app.invoices.forms import CreditNoteForm, ManualInvoiceForm, PaymentForm
from app.invoices.models import Invoice
from app.invoices.pdfs import Issued
from app.invoices.rules import MAX_LINES, payment_date_problem
from app.messages import msg
from app.pricing.decimals import parse_decimal
from app.pricing.forms import attach_line_errors
from app.pricing.lines import LineInput
from app.quotes.forms import filled_lines
from app.rendering.french import format_percent
from app.wiring import db_session, runtime, unit_of_work


@bp.route("/")
@require(Permission.VIEW_INVOICES)
def index() -> str:
    return render_template("invoices/index.html", invoices=issuing.list_invoices(db_session()))


def _choices(form: ManualInvoiceForm) -> None:
    choices = issuing.invoice_form_choices(db_session())
    form.client_id.choices = [
        SelectChoice(c.id, f"{c.legal_name} ({c.siren})") for c in choices.clients
    ]
    form.contract_id.choices = [SelectChoice(0, "— aucun —")] + [
        SelectChoice(c.id, f"{c.number} — {c.client.legal_name}") for c in choices.contracts
    ]


def _parse_lines(form: ManualInvoiceForm) -> tuple[list[LineInput], bool]:
    lines: list[LineInput] = []
    unreadable = False
    for sub in filled_lines(form.lines):
        figures = sub.figures(
            sub.unit_price.data or "",
            sub.vat_rate.data or "",
            price_hint="Indiquez un prix (ex. 1 250,00 ; négatif pour une remise).",
        )
        if figures is None:
            unreadable = True
            continue
        lines.append(LineInput(sub.designation.data or "", *figures))
    return lines, unreadable


def _attach(form: ManualInvoiceForm, errors: dict[str, str]) -> None:
    attach_line_errors(form, filled_lines(form.lines), errors)


@bp.route("/nouvelle", methods=["GET", "POST"])
@require(Permission.ISSUE_INVOICES)
def new() -> str | Response | tuple[str, int]:
    form = ManualInvoiceForm()
    _choices(form)
    if form.add_line.data:
        if len(form.lines.entries) < MAX_LINES:
            form.lines.append_entry()
        return render_template("invoices/new.html", form=form)
    if form.validate_on_submit():
        lines, unreadable = _parse_lines(form)
        if not unreadable:
            user = signed_in_user()
            try:
                with unit_of_work() as work:
                    contract = (
                        get_contract(work, form.contract_id.data) if form.contract_id.data else None
                    )
                    invoice = issuing.issue_invoice(
                        work,
                        client=get_client(work, form.client_id.data),
                        contract=contract,
                        lines=lines,
                        payment_terms_days=form.payment_terms_days.data,
                        payment_method=form.payment_method.data,
                        now=utcnow(),
                        actor=f"user:{user.id}",
                        created_by_id=user.id,
                    )
            except FieldErrors as exc:
                _attach(form, exc.errors)
            except DomainError as exc:
                form.form_errors = [*form.form_errors, exc.detail]
            else:
                tasks.after_issue(Issued.INVOICE, invoice.id)
                flash(f"Facture {invoice.number} émise.", "success")
                return redirect(url_for("invoices.show", invoice_id=invoice.id))
        return render_template("invoices/new.html", form=form), 422
    status = 422 if form.errors else 200
    return render_template("invoices/new.html", form=form), status


@bp.route("/<int:invoice_id>")
@require(Permission.VIEW_INVOICES)
def show(invoice_id: int) -> str:
    invoice = issuing.get_invoice(db_session(), invoice_id)
    return _show(invoice_id, _credit_form(invoice, submitted=False))


def _show(
    invoice_id: int, credit_form: CreditNoteForm, payment_form: PaymentForm | None = None
) -> str:
    """The invoice page; the form that was sent (``credit_form`` or ``payment_form``) comes
    back as typed, with its errors, the other one blank (never filled from the other's data)."""
    db = db_session()
    invoice = issuing.get_invoice(db, invoice_id)
    if payment_form is None:
        payment_form = PaymentForm(formdata=None, occurred_on=business_date(utcnow()))
    return render_template(
        "invoices/show.html",
        invoice=invoice,
        totals=issuing.totals_of(invoice),
        due=payments.amount_due(db, invoice),
        payments=payments.payments_of(db, invoice),
        form=payment_form,
        credit_form=credit_form,
        mail=mailing.mail_progress(db, invoice),
    )


def _credit_form(invoice: Invoice, *, submitted: bool) -> CreditNoteForm:
    form = CreditNoteForm() if submitted else CreditNoteForm(formdata=None)
    rates = sorted({line.vat_rate for line in invoice.lines}, reverse=True)
    form.vat_rate.choices = [
        SelectChoice(format(r.normalize(), "f"), format_percent(r)) for r in rates
    ]
    return form


@bp.route("/<int:invoice_id>/paiement", methods=["POST"])
@require(Permission.RECORD_PAYMENTS)
def payment(invoice_id: int) -> Response | tuple[str, int]:
    """A payment received or a direct debit rejected. Refused: the invoice page again (422),
    what was typed kept, every problem on its field."""
    db = db_session()
    invoice = issuing.get_invoice(db, invoice_id)
    form = PaymentForm()
    valid = form.validate_on_submit()
    failed = form.kind.data == "failed"
    amount = None if failed else parse_decimal(form.amount.data or "")
    if not failed and amount is None and not form.amount.errors:
        form.amount.errors = ["Indiquez le montant reçu (ex. 1 250,00)."]
    day = form.occurred_on.data
    if not valid or day is None or form.amount.errors:
        # Refused before the service is asked: its date check said here too (all at once).
        if (
            day is not None
            and not form.occurred_on.errors
            and (problem := payment_date_problem(day, invoice.issued_on))
        ):
            form.occurred_on.errors = [problem]
        return _refused_payment(invoice, form)
    user = signed_in_user()
    common = {
        "invoice": invoice,
        "occurred_on": day,
        "now": utcnow(),
        "actor": f"user:{user.id}",
        "created_by_id": user.id,
    }
    try:
        with unit_of_work() as work:
            if amount is None:  # a failed debit: no amount received
                payments.record_failed_debit(work, charge_fee=bool(form.charge_fee.data), **common)
            else:
                payments.record_payment(work, amount=amount, **common)
    except FieldErrors as exc:
        for key, message in exc.errors.items():
            field = {"occurred_on": form.occurred_on}.get(key, form.amount)
            field.errors = [*field.errors, message]
        return _refused_payment(invoice, form)
    flash("Paiement enregistré.", "success")
    return redirect(url_for("invoices.show", invoice_id=invoice_id))


def _refused_payment(invoice: Invoice, form: PaymentForm) -> tuple[str, int]:
    return _show(invoice.id, _credit_form(invoice, submitted=False), form), 422


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


def _inline_pdf(document: Document | None, number: str) -> Response:
    """An archived PDF, read through the archive (integrity checked, access journaled);
    not archived yet: 409, and nothing is produced here."""
    if document is None:
        raise PdfNotProduced(
            msg(
                "{number} est émis mais son PDF n'est pas encore archivé : il est produit après "
                "l'émission par les travaux en arrière-plan. Réessayez dans quelques instants : "
                "la page de la facture affiche le lien dès qu'il est prêt.",
                number=number,
            )
        )
    user = signed_in_user()
    data = checked_bytes(db_session(), runtime().store, document, actor=f"user:{user.id}")
    return Response(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{document.filename}"'},
    )


@bp.route("/<int:invoice_id>/pdf")
@require(Permission.VIEW_INVOICES)
def pdf(invoice_id: int) -> Response:
    invoice = issuing.get_invoice(db_session(), invoice_id)
    return _inline_pdf(invoice.document, f"La facture {invoice.number}")


@bp.route("/<int:invoice_id>/avoir", methods=["POST"])
@require(Permission.ISSUE_INVOICES)
def credit_note(invoice_id: int) -> str | Response | tuple[str, int]:
    """Issue an avoir: the whole invoice (cancellation) or one amount at one of its VAT
    rates. Refusals (nothing left to credit, missing reason, unreadable amount) come back as
    field errors on the invoice page; no number is taken."""
    db = db_session()
    invoice = issuing.get_invoice(db, invoice_id)
    form = _credit_form(invoice, submitted=True)
    if not form.validate_on_submit():
        return _show(invoice_id, form), 422
    lines: list[LineInput] | None = None
    if form.mode.data == "partial":
        amount = parse_decimal(form.amount.data or "")
        vat = parse_decimal(form.vat_rate.data or "")
        if amount is None or amount <= 0:
            form.amount.errors = ["Indiquez le montant HT à créditer, positif (ex. 250,00)."]
        if not (form.designation.data or "").strip():
            form.designation.errors = ["Indiquez ce que l'avoir crédite."]
        if vat is None:
            form.vat_rate.errors = ["Choisissez un des taux de TVA de la facture."]
        if amount is None or vat is None or form.amount.errors or form.designation.errors:
            return _show(invoice_id, form), 422
        lines = [LineInput((form.designation.data or "").strip(), Decimal("1"), amount, vat)]
    user = signed_in_user()
    try:
        with unit_of_work() as work:
            note = issuing.issue_credit_note(
                work,
                invoice=invoice,
                reason=form.reason.data or "",
                lines=lines,
                now=utcnow(),
                actor=f"user:{user.id}",
                created_by_id=user.id,
            )
    except FieldErrors as exc:
        for key, message in exc.errors.items():
            field = {"reason": form.reason}.get(key, form.amount)
            field.errors = [*field.errors, message]
        return _show(invoice_id, form), 422
    tasks.after_issue(Issued.CREDIT_NOTE, note.id)
    flash(f"Avoir {note.number} émis sur la facture {invoice.number}.", "success")
    return redirect(url_for("invoices.show", invoice_id=invoice_id))


@bp.route("/avoirs/<int:note_id>/pdf")
@require(Permission.VIEW_INVOICES)
def credit_note_pdf(note_id: int) -> Response:
    note = issuing.get_credit_note(db_session(), note_id)
    return _inline_pdf(note.document, f"L'avoir {note.number}")


@bp.route("/<int:invoice_id>/pdf/etat")
@require(Permission.VIEW_INVOICES)
def pdf_status(invoice_id: int) -> dict[str, Any]:
    """Whether the PDFs of the invoice and of its credit notes are archived, and where to
    download them: what the invoice page's script polls while a PDF is being produced."""
    invoice = issuing.get_invoice(db_session(), invoice_id)

    def state(ready: bool, url: str) -> dict[str, Any]:
        return {"ready": ready, "url": url if ready else None}

    return {
        "invoice": state(
            invoice.document_id is not None, url_for("invoices.pdf", invoice_id=invoice.id)
        ),
        "credit_notes": {
            str(note.id): state(
                note.document_id is not None,
                url_for("invoices.credit_note_pdf", note_id=note.id),
            )
            for note in invoice.credit_notes
        },
    }


@bp.route("/<int:invoice_id>/envoi/etat")
@require(Permission.VIEW_INVOICES)
def mailing_state(invoice_id: int) -> Response:
    """Where the invoice's mails stand, polled by its page while they are being sent (a GET:
    reads only): the section as the page shows it, rendered and escaped here, and
    ``poll_after``, null once nothing is left to send."""
    db = db_session()
    invoice = issuing.get_invoice(db, invoice_id)
    mail = mailing.mail_progress(db, invoice)
    response = jsonify(
        stage=mail.stage.value,
        poll_after=mail.poll_after,
        html=render_template("invoices/_mailing.html", invoice=invoice, mail=mail),
    )
    response.headers["Cache-Control"] = "no-store"
    return response
