"""The users page (role admin): list, invite, change a role or a capacity (« fonction »),
deactivate, reactivate.

Deactivating or changing a role ends the user's sessions at once (`session_generation`)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from app.auth import accounts, workflow
from app.auth.errors import AuthError
from app.auth.forms import InviteForm, RoleForm, TitleForm
from app.auth.guards import require, signed_in_user
from app.auth.models import Role, User
from app.auth.rules import Permission
from app.branding import MAX_REMOTE_LOGO_BYTES
from app.db import utcnow
from app.errors import FieldErrors
from app.forms import add_missing_field_errors
from app.mail import MailError
from app.rendering.mail_layout import remote_logo_problem
from app.wiring import db_session, runtime, unit_of_work

bp = Blueprint("users_admin", __name__)


def _acting() -> User:
    user = signed_in_user()
    return user


def _page(
    form: InviteForm, status: int = 200, title_form: tuple[int, TitleForm] | None = None
) -> tuple[str, int]:
    """``title_form``: a user's capacity refused (their id, the form with what was typed and
    its errors), shown in that user's row."""
    users = accounts.list_users(db_session())
    # A remote logo the mails cannot carry is said here, where the vendor's identity is shown.
    logo_url = runtime().settings.vendor.branding.logo_url
    return render_template(
        "auth/users.html",
        form=form,
        users=users,
        roles=list(Role),
        title_form=title_form,
        logo_problem=remote_logo_problem(logo_url) if logo_url else None,
        logo_max_kib=MAX_REMOTE_LOGO_BYTES // 1024,
    ), status


@bp.route("/admin/utilisateurs", methods=["GET", "POST"])
@require(Permission.MANAGE_USERS)
def users() -> str | Response | tuple[str, int]:
    form = InviteForm()
    if not form.validate_on_submit():
        return _page(form, 422 if form.errors else 200)
    acting_id = _acting().id
    # The guard's read opened the request's transaction (on SQLite, the write lock): it ends
    # here, since the workflow opens its own and mails after committing it.
    db_session().rollback()
    try:
        address = workflow.invite(
            runtime().collaborators(utcnow()),
            email=form.email.data or "",
            full_name=form.full_name.data or "",
            role=Role(form.role.data),
            acting_id=acting_id,
            title=form.title.data or "",
        )
    except MailError as exc:
        current_app.logger.warning("invitation mail not sent: %s", exc)
        flash(
            "Compte créé, mais l'invitation n'a pas pu être envoyée : la personne peut demander "
            "un lien depuis « Mot de passe oublié ».",
            "error",
        )
        return redirect(url_for("users_admin.users"))
    except FieldErrors as exc:  # what the form let through and the service refuses
        add_missing_field_errors(form, exc)
        return _page(form, 422)
    except AuthError as exc:  # the address already has an account
        form.email.errors = [str(exc)]
        return _page(form, 422)
    flash(f"Invitation envoyée à {address}.", "success")
    return redirect(url_for("users_admin.users"))


def _act_on_user(change: Callable[[Session], User], done: Callable[[User], str]) -> Response:
    """Run one change to an account in a unit of work, then back to the list with what happened
    (or why it was refused: the last administrator, oneself…)."""
    try:
        with unit_of_work() as db:
            user = change(db)
    except AuthError as exc:
        flash(str(exc), "error")
    else:
        flash(done(user), "success")
    return redirect(url_for("users_admin.users"))


@bp.route("/admin/utilisateurs/<int:user_id>/role", methods=["POST"])
@require(Permission.MANAGE_USERS)
def change_role(user_id: int) -> Response:
    form = RoleForm()
    if not form.validate_on_submit():
        flash("Choisissez un rôle dans la liste.", "error")
        return redirect(url_for("users_admin.users"))
    role = Role(form.role.data)
    return _act_on_user(
        lambda db: accounts.change_role(db, user_id, role=role, acting=_acting(), now=utcnow()),
        lambda user: f"{user.full_name} : rôle {user.role.label}, sessions fermées.",
    )


@bp.route("/admin/utilisateurs/<int:user_id>/fonction", methods=["POST"])
@require(Permission.MANAGE_USERS)
def change_title(user_id: int) -> Response | tuple[str, int]:
    """The capacity printed when the user countersigns; refused: the page again, the error
    next to that user's field, nothing written."""
    form = TitleForm()
    refused = (user_id, form)
    if not form.validate_on_submit():
        return _page(InviteForm(formdata=None), 422, refused)
    title = form.title.data or ""
    try:
        with unit_of_work() as db:
            user = accounts.change_title(db, user_id, title=title, acting=_acting(), now=utcnow())
    except FieldErrors as exc:
        add_missing_field_errors(form, exc)
        return _page(InviteForm(formdata=None), 422, refused)
    except AuthError as exc:  # an unknown user
        flash(str(exc), "error")
        return redirect(url_for("users_admin.users"))
    shown = f"fonction «\u00a0{user.title}\u00a0»" if user.title else "aucune fonction"
    flash(f"{user.full_name}\u00a0: {shown}.", "success")
    return redirect(url_for("users_admin.users"))


@bp.route("/admin/utilisateurs/<int:user_id>/desactivation", methods=["POST"])
@require(Permission.MANAGE_USERS)
def deactivate(user_id: int) -> Response:
    return _act_on_user(
        lambda db: accounts.deactivate(db, user_id, acting=_acting(), now=utcnow()),
        lambda user: f"{user.full_name} est désactivé : ses sessions sont fermées.",
    )


@bp.route("/admin/utilisateurs/<int:user_id>/reactivation", methods=["POST"])
@require(Permission.MANAGE_USERS)
def reactivate(user_id: int) -> Response:
    return _act_on_user(
        lambda db: accounts.reactivate(db, user_id, acting=_acting(), now=utcnow()),
        lambda user: f"{user.full_name} peut de nouveau se connecter.",
    )
