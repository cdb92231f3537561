"""Administration pages of the auth feature: archivist API tokens (role admin).

A module of its own because it needs the route guards, which sit beside views.py in the
feature's layers."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app.auth import services
from app.auth.errors import TokenError
from app.auth.forms import ApiTokenForm
from app.auth.guards import current_user, require, token_cache
from app.auth.models import ApiToken, Scope
from app.auth.rules import Permission
from app.db import utcnow
from app.plaintext import control_character_problem
from app.wiring import db_session, unit_of_work

bp = Blueprint("auth_admin", __name__)


def _tokens() -> list[ApiToken]:
    return services.list_api_tokens(db_session())


@bp.route("/admin/jetons", methods=["GET", "POST"])
@require(Permission.MANAGE_API_TOKENS)
def api_tokens() -> str | tuple[str, int]:
    """Archivist API tokens: created here (shown once), revoked, with their last use."""
    form = ApiTokenForm()
    if request.method == "POST":
        problem = control_character_problem(form.name.data or "")
        if form.validate_on_submit() and problem:
            form.name.errors = [problem]
        elif not form.errors:
            user = current_user()
            with unit_of_work() as db:
                token, plaintext = services.create_api_token(
                    db,
                    name=form.name.data or "",
                    scopes=[Scope(s) for s in form.scopes.data or []],
                    now=utcnow(),
                    created_by=user,
                    actor=f"user:{user.id}" if user else "system",
                )
            # Rendered, never redirected: the plaintext must not travel through the session.
            return render_template(
                "auth/tokens.html",
                form=ApiTokenForm(formdata=None),
                tokens=_tokens(),
                created=token,
                plaintext=plaintext,
            )
        return render_template("auth/tokens.html", form=form, tokens=_tokens()), 422
    return render_template("auth/tokens.html", form=form, tokens=_tokens())


@bp.route("/admin/jetons/<int:token_id>/revocation", methods=["POST"])
@require(Permission.MANAGE_API_TOKENS)
def revoke_api_token(token_id: int) -> Response:
    user = current_user()
    try:
        with unit_of_work() as db:
            token = services.revoke_api_token(
                db, token_id, now=utcnow(), actor=f"user:{user.id}" if user else "system"
            )
    except TokenError as exc:
        # A message on the tokens page (not an error page): TokenError is no DomainError.
        flash(str(exc), "error")
        return redirect(url_for("auth_admin.api_tokens"))
    token_cache().forget(token.id)
    flash(
        f"Jeton « {token.name} » révoqué : refusé dès maintenant par tous les serveurs.",
        "success",
    )
    return redirect(url_for("auth_admin.api_tokens"))
