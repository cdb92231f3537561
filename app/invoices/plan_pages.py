"""Billing-plan pages: the plans, a plan from a signed contract, its Syntec revision
clause and revisions; the Syntec indices and the reference rates they are computed from."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from flask import flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from app.auth.guards import require, signed_in_user
from app.auth.rules import Permission, can
from app.clock import business_date
from app.contracts.queries import get_contract
from app.db import utcnow
from app.errors import DomainError, FieldErrors
from app.forms import apply_field_errors
from app.invoices import billing_runs, payments, plans, revision, tasks
from app.invoices.blueprint import bp
from app.invoices.forms import (
    BillingPeriodForm,
    PlanFromContractForm,
    ReferenceRateForm,
    RevisionClauseForm,
    RevisionForm,
    SyntecIndexForm,
)
from app.invoices.models import RateKind
from app.invoices.rules import Period
from app.pricing.decimals import parse_decimal
from app.rendering.french import format_date, format_decimal, format_percent, upper_first
from app.wiring import db_session, unit_of_work


@bp.route("/syntec", methods=["GET", "POST"])
@require(Permission.MANAGE_PRICE_INDICES)
def syntec() -> str | Response | tuple[str, int]:
    form = SyntecIndexForm()

    def save(work: Session, value: Decimal) -> str:
        user = signed_in_user()
        month = form.month.data or ""
        row = revision.set_syntec_index(
            work, month=month, value=value, now=utcnow(), created_by_id=user.id
        )
        return f"Indice Syntec de {row.month} enregistré."

    answer = _save_figure(
        form, "value", "Indiquez une valeur (ex. 298,4).", save, "invoices.syntec"
    )
    if isinstance(answer, Response):
        return answer
    indices = revision.syntec_indices(db_session())
    return render_template("invoices/syntec.html", form=form, indices=indices), answer


@bp.route("/plans", endpoint="plans")
@require(Permission.VIEW_INVOICES)
def plans_page() -> str | tuple[str, int]:
    """The plans; for those who issue invoices, what a run of the period asked for (by
    default the current business month) would do, read only."""
    period_form = BillingPeriodForm(request.args, meta={"csrf": False})
    if "period" not in request.args:
        period_form.period.data = _current_period()
    return _plans_page(_plan_form(), period_form)


def _plan_form() -> PlanFromContractForm:
    form = PlanFromContractForm()
    form.contract_id.choices = [
        SelectChoice(c.id, f"{c.number} — {c.client.legal_name}")
        for c in plans.signed_contracts(db_session(), without_plan=True)
    ]
    if form.start_date.data is None:
        today = business_date(utcnow())
        form.start_date.data = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
    return form


def _current_period() -> str:
    """The business month of now (Paris): the period the plans page shows first."""
    today = business_date(utcnow())
    return str(Period(today.year, today.month))


def _plans_page(
    form: PlanFromContractForm, period_form: BillingPeriodForm | None = None
) -> tuple[str, int]:
    """The page and its status: 422 when the period asked for cannot be read."""
    db = db_session()
    rows = [(plan, revision.revision_clause_of(db, plan)) for plan in plans.list_plans(db)]
    preview = None
    status = 200
    if can(signed_in_user().role, Permission.ISSUE_INVOICES):
        if period_form is None:
            period_form = BillingPeriodForm(
                formdata=None, meta={"csrf": False}, period=_current_period()
            )
        try:
            if period_form.errors:
                status = 422
            else:
                preview = billing_runs.preview_period(
                    db, billing_runs.parse_period(period_form.period.data)
                )
        except FieldErrors as exc:
            apply_field_errors(period_form, exc)
            status = 422
    page = render_template(
        "invoices/plans.html", rows=rows, form=form, period_form=period_form, preview=preview
    )
    return page, status


@bp.route("/plans/facturations", methods=["POST"], endpoint="issue_period")
@require(Permission.ISSUE_INVOICES)
def issue_period() -> Response | tuple[str, int]:
    """Issue the period's due invoices: one run asked for (a second click joins the run
    under way), done by a job; its page follows it."""
    period_form = BillingPeriodForm()
    if not period_form.validate_on_submit():
        return _plans_page(_plan_form(), period_form)
    user = signed_in_user()
    try:
        period = billing_runs.parse_period(period_form.period.data)
        with unit_of_work() as work:
            run, new = billing_runs.request_run(work, period, requested_by_id=user.id, now=utcnow())
    except FieldErrors as exc:
        apply_field_errors(period_form, exc)
        return _plans_page(_plan_form(), period_form)
    if new:
        tasks.issue_period.enqueue(run.id)
    else:  # its job may have been lost: enqueued again, it does nothing if the run is taken
        tasks.issue_period.enqueue_again(run.id)
    return redirect(url_for("invoices.billing_run", billing_run_id=run.id))


@bp.route("/plans/facturations/<int:billing_run_id>", endpoint="billing_run")
@require(Permission.VIEW_INVOICES)
def billing_run(billing_run_id: int) -> str:
    progress = billing_runs.progress_of(db_session(), billing_run_id)
    return render_template("invoices/billing_run.html", progress=progress)


@bp.route("/plans/facturations/<int:billing_run_id>/etat", endpoint="billing_run_state")
@require(Permission.VIEW_INVOICES)
def billing_run_state(billing_run_id: int) -> Response:
    """Where the run stands, polled by its page until it is finished (a GET: reads only):
    the section as the page shows it, and ``poll_after``, null once finished."""
    progress = billing_runs.progress_of(db_session(), billing_run_id)
    response = jsonify(
        stage=progress.run.status.value,
        poll_after=progress.poll_after,
        html=render_template("invoices/_billing_run.html", progress=progress),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/plans/nouveau", methods=["POST"])
@require(Permission.ISSUE_INVOICES)
def new_plan() -> str | Response | tuple[str, int]:
    """A signed contract's plan, filled from its quote's commercial terms (frequency,
    payment, amounts per period, setup-fee schedule: ``rules.plan_lines``)."""
    form = _plan_form()
    if not form.validate_on_submit() or form.start_date.data is None:
        return _plans_page(form)[0], 422
    user = signed_in_user()
    try:
        with unit_of_work() as work:
            plan = plans.create_plan_from_contract(
                work,
                contract=get_contract(work, form.contract_id.data),
                start_date=form.start_date.data,
                now=utcnow(),
                actor=f"user:{user.id}",
            )
    except FieldErrors as exc:
        apply_field_errors(form, exc)
        return _plans_page(form)[0], 422
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
        contract=get_contract(db, plan.contract_id),
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
        cap = parse_decimal(form.cap_percent.data or "")
        if cap is None:
            form.cap_percent.errors = ["Indiquez un pourcentage (ex. 3 ou 2,5)."]
            return _plan_page(plan_id, clause_form=form), 422
    try:
        with unit_of_work() as work:
            revision.set_revision_clause(
                work,
                plan=plan,
                base_month=(form.base_month.data or "").strip(),
                reference_month=form.reference_month.data or 0,
                cap_percent=cap,
                no_decrease=bool(form.no_decrease.data),
            )
    except FieldErrors as exc:
        apply_field_errors(form, exc)
        return _plan_page(plan_id, clause_form=form), 422
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
    user = signed_in_user()
    try:
        with unit_of_work() as work:
            if not form.apply.data:  # nothing written: the unit of work commits nothing
                preview = revision.preview_revision(work, plan=plan, renewal=form.renewal.data)
                return _plan_page(plan_id, revision_form=form, preview=preview)
            applied = revision.apply_revision(
                work, plan=plan, renewal=form.renewal.data, now=utcnow(), actor=f"user:{user.id}"
            )
    except FieldErrors as exc:
        apply_field_errors(form, exc)
        return _plan_page(plan_id, revision_form=form), 422
    except DomainError as exc:  # an index not entered yet
        form.form_errors = [*form.form_errors, exc.detail]
        return _plan_page(plan_id, revision_form=form), 422
    flash(f"Révision appliquée : {applied.formula}", "success")
    return redirect(url_for("invoices.plan", plan_id=plan_id))


@bp.route("/taux", methods=["GET", "POST"])
@require(Permission.MANAGE_PRICE_INDICES)
def rates() -> str | Response | tuple[str, int]:
    """The dated ECB and legal interest rates late interest is computed from. A rate, once
    entered for a date, does not change (interest already computed depends on it)."""
    form = ReferenceRateForm()

    def save(work: Session, value: Decimal) -> str:
        effective_from = form.effective_from.data
        assert effective_from is not None  # required: a valid form has its date
        kind = RateKind(form.kind.data)
        row = payments.set_reference_rate(
            work, kind=kind, effective_from=effective_from, rate=value, now=utcnow()
        )
        return (
            f"{upper_first(row.kind.label)} de {format_percent(row.rate)} "
            f"enregistré à partir du {format_date(row.effective_from)}."
        )

    answer = _save_figure(form, "rate", "Indiquez un taux en % (ex. 2,15).", save, "invoices.rates")
    if isinstance(answer, Response):
        return answer
    listed = payments.reference_rates(db_session())
    return render_template("invoices/rates.html", form=form, rates=listed), answer


def _save_figure(
    form: SyntecIndexForm | ReferenceRateForm,
    field: str,
    missing: str,
    save: Callable[[Session, Decimal], str],
    page: str,
) -> Response | int:
    """The Syntec index and the reference rates save one figure typed the French way (298,4)
    alike: on a valid post, an unreadable figure is refused on its field; read, `save` writes
    it in one transaction and says what was saved, and `page` is shown again (a GET, so a
    reload posts nothing). Else the status to render the form with (422) or without errors."""
    if not form.validate_on_submit():
        return 422 if form.errors else 200
    value = parse_decimal(getattr(form, field).data or "")
    try:
        if value is None:
            raise FieldErrors({field: missing})
        with unit_of_work() as work:
            saved = save(work, value)
    except FieldErrors as exc:
        apply_field_errors(form, exc)
        return 422
    flash(saved, "success")
    return redirect(url_for(page))
