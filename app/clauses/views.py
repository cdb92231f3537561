from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app.auth.guards import current_user, require
from app.auth.rules import Permission
from app.clauses import rules, services
from app.clauses.errors import ClauseInvalid
from app.clauses.forms import ClauseForm
from app.db import utcnow
from app.forms import apply_field_errors
from app.wiring import db_session, unit_of_work

bp = Blueprint("clauses", __name__, url_prefix="/clauses")


@bp.route("/", methods=["GET", "POST"])
@require(Permission.MANAGE_CLAUSES)
def index() -> str | Response | tuple[str, int]:
    db = db_session()
    form = ClauseForm()
    status = 200
    if form.validate_on_submit():
        user = current_user()
        assert user is not None
        try:
            with unit_of_work():
                clause = services.create_clause(
                    db,
                    title=form.title.data or "",
                    body=form.body_markdown.data or "",
                    now=utcnow(),
                    actor=f"user:{user.id}",
                    author_id=user.id,
                )
        except ClauseInvalid as exc:
            apply_field_errors(form, exc)  # re-rendered with the list below, not an error page
            status = 422
        else:
            flash("Clause enregistrée (version 1).", "success")
            return redirect(url_for("clauses.show", clause_id=clause.id))
    elif form.is_submitted():
        status = 422
    return render_template(
        "clauses/index.html",
        form=form,
        clauses=services.list_clauses(db),
        placeholders=rules.PLACEHOLDERS,
    ), status


@bp.route("/<int:clause_id>", methods=["GET", "POST"])
@require(Permission.MANAGE_CLAUSES)
def show(clause_id: int) -> str | Response | tuple[str, int]:
    db = db_session()
    clause = services.get_clause(db, clause_id)
    form = ClauseForm()
    if request.method == "GET":
        form.title.data = clause.latest.title
        form.body_markdown.data = clause.latest.body_markdown
    status = 200
    if form.validate_on_submit():
        user = current_user()
        assert user is not None
        try:
            with unit_of_work():
                version = services.revise_clause(
                    db,
                    clause,
                    title=form.title.data or "",
                    body=form.body_markdown.data or "",
                    now=utcnow(),
                    actor=f"user:{user.id}",
                    author_id=user.id,
                )
        except ClauseInvalid as exc:
            apply_field_errors(form, exc)  # re-rendered on the page, not an error page
            status = 422
        else:
            flash(f"Clause enregistrée (version {version.version}).", "success")
            return redirect(url_for("clauses.show", clause_id=clause.id))
    elif form.is_submitted():
        status = 422
    return render_template(
        "clauses/show.html", form=form, clause=clause, placeholders=rules.PLACEHOLDERS
    ), status
