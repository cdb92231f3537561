"""Public pages of the accounts: "mot de passe oublié" and the page an emailed link opens
(a reset or an invitation). The link's token is the credential; no login needed."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app.auth import accounts, workflow
from app.auth.errors import AccountLinkInvalid
from app.auth.forms import ForgotPasswordForm, SetPasswordForm
from app.auth.mails import SET_PASSWORD_PATH
from app.db import utcnow
from app.extensions import limiter
from app.mail import MailError
from app.wiring import db_session, runtime, unit_of_work

bp = Blueprint("accounts", __name__)

SENT = (
    "Si un compte actif correspond à cette adresse, un lien pour choisir un nouveau mot de passe "
    "vient d'y être envoyé. Il est valable une heure."
)


def _email_key() -> str:
    # A second limit per address: spread over many IPs, requests still cannot flood one inbox.
    return "reset:" + (request.form.get("email") or "").strip().lower()


@bp.route("/mot-de-passe-oublie", methods=["GET", "POST"])
@limiter.limit("5 per 15 minutes", methods=["POST"])
@limiter.limit("3 per hour", methods=["POST"], key_func=_email_key)
def forgot_password() -> str | tuple[str, int]:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        # A logged-in visitor's request may hold a transaction (on SQLite, the write lock): the
        # workflow opens its own.
        db_session().rollback()
        try:
            workflow.request_password_reset(
                runtime().collaborators(utcnow()), form.email.data or ""
            )
        except MailError as exc:
            # Same answer as a success: a different page would tell that the account exists.
            current_app.logger.warning("password reset mail not sent: %s", exc)
        return render_template("auth/forgot.html", form=None, sent=SENT)
    status = 422 if form.errors else 200
    return render_template("auth/forgot.html", form=form, sent=None), status


@bp.route(SET_PASSWORD_PATH + "<token>", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def set_password(token: str) -> str | Response | tuple[str, int]:
    now = utcnow()
    form = SetPasswordForm()
    try:
        if form.validate_on_submit():
            with unit_of_work() as db:
                accounts.set_password_with_link(
                    db, token=token, password=form.password.data or "", now=now
                )
            flash(
                "Mot de passe enregistré. Connectez-vous avec votre nouveau mot de passe.",
                "success",
            )
            return redirect(url_for("auth.login"))
        link = accounts.open_link(db_session(), token, now)
    except AccountLinkInvalid as exc:
        return render_template("auth/link_invalid.html", message=str(exc)), 410
    status = 422 if form.errors else 200
    return render_template("auth/set_password.html", form=form, link=link), status
