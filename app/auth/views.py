from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from app.auth import services
from app.auth.errors import InvalidCredentials
from app.auth.forms import LoginForm
from app.db import utcnow
from app.extensions import limiter
from app.wiring import unit_of_work

bp = Blueprint("auth", __name__)

STAFF_KEYS = ("user_id", "gen")
"""The staff sign-in's keys in the signed session cookie. The same cookie may carry a client
space's sign-in (`space`, app/client_space/views.py), another person's business that a staff
login or logout leaves alone: only these keys are dropped, never the whole session."""


def _drop_staff_keys() -> None:
    for key in STAFF_KEYS:
        session.pop(key, None)


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an attacker-supplied ?next=https://evil must not redirect away.
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and not urlsplit(target).netloc
    ):
        return target
    return url_for("home.index")


@bp.route("/connexion", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def login() -> str | Response | tuple[str, int]:
    form = LoginForm()
    if form.validate_on_submit():
        try:
            with unit_of_work() as db:
                user = services.log_in(
                    db,
                    email=form.email.data or "",
                    password=form.password.data or "",
                    now=utcnow(),
                )
        except InvalidCredentials as exc:
            # A form error (on the password field), not an error page.
            form.password.errors = [str(exc)]
            return render_template("auth/login.html", form=form), 401
        _drop_staff_keys()
        # A new CSRF token on login (no fixation of one planted before); the space's key stays.
        session.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
        session["user_id"] = user.id
        session["gen"] = user.session_generation
        flash(f"Bienvenue, {user.full_name}.", "success")
        return redirect(_safe_next(request.args.get("next")))
    status = 422 if form.errors else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/deconnexion", methods=["POST"])
def logout() -> Response:
    with unit_of_work() as db:
        services.log_out(db, session.get("user_id"), session.get("gen"), now=utcnow())
    _drop_staff_keys()
    flash("Vous êtes déconnecté.", "info")
    return redirect(url_for("auth.login"))
