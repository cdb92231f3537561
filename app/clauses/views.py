from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app.auth.guards import require, signed_in_user
from app.auth.rules import Permission
from app.clauses import rules, services
from app.clauses.errors import ClauseInvalid
from app.clauses.forms import ClauseForm
from app.clauses.models import ClauseVersion
from app.db import utcnow
from app.forms import apply_field_errors
from app.wiring import db_session, unit_of_work

bp = Blueprint("clauses", __name__, url_prefix="/clauses")

# What a page writes from the form: (title, body, author's user id) → the version now current.
Write = Callable[[str, str, int], ClauseVersion]


def _submit(form: ClauseForm, write: Write) -> Response | int:
    """Creating and revising a clause answer a submitted form alike: the clause's page once
    written, else the status to render the form again with (422 keeps the typed text and the
    field errors on the page rather than an error page)."""
    if not form.validate_on_submit():
        return 422 if form.is_submitted() else 200
    user = signed_in_user()
    try:
        with unit_of_work():
            version = write(form.title.data or "", form.body_markdown.data or "", user.id)
    except ClauseInvalid as exc:
        apply_field_errors(form, exc)
        return 422
    flash(f"Clause enregistrée (version {version.version}).", "success")
    return redirect(url_for("clauses.show", clause_id=version.clause_id))


@bp.route("/", methods=["GET", "POST"])
@require(Permission.MANAGE_CLAUSES)
def index() -> str | Response | tuple[str, int]:
    db = db_session()
    form = ClauseForm()

    def create(title: str, body: str, author_id: int) -> ClauseVersion:
        clause = services.create_clause(
            db, title=title, body=body, now=utcnow(), actor=f"user:{author_id}", author_id=author_id
        )
        return clause.latest

    answer = _submit(form, create)
    if isinstance(answer, Response):
        return answer
    clauses = services.list_clauses(db)
    return render_template(
        "clauses/index.html", form=form, clauses=clauses, placeholders=rules.PLACEHOLDERS
    ), answer


@bp.route("/<int:clause_id>", methods=["GET", "POST"])
@require(Permission.MANAGE_CLAUSES)
def show(clause_id: int) -> str | Response | tuple[str, int]:
    db = db_session()
    clause = services.get_clause(db, clause_id)
    form = ClauseForm()
    if request.method == "GET":
        form.title.data = clause.latest.title
        form.body_markdown.data = clause.latest.body_markdown

    def revise(title: str, body: str, author_id: int) -> ClauseVersion:
        return services.revise_clause(
            db,
            clause,
            title=title,
            body=body,
            now=utcnow(),
            actor=f"user:{author_id}",
            author_id=author_id,
        )

    answer = _submit(form, revise)
    if isinstance(answer, Response):
        return answer
    return render_template(
        "clauses/show.html", form=form, clause=clause, placeholders=rules.PLACEHOLDERS
    ), answer
