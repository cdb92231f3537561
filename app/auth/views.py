from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from app.audit import services as audit
from app.auth import services
from app.auth.errors import InvalidCredentials
from app.auth.forms import LoginForm
from app.auth.models import User
from app.db import utcnow
from app.extensions import limiter
from app.wiring import db_session

bp = Blueprint("auth", __name__)


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
        db = db_session()
        now = utcnow()
        try:
            user = services.authenticate(
                db, email=form.email.data or "", password=form.password.data or "", now=now
            )
        except InvalidCredentials as exc:
            form.password.errors = [str(exc)]
            return render_template("auth/login.html", form=form), 401
        audit.record(
            db,
            now=now,
            actor=f"user:{user.id}",
            action="user.login",
            subject_type="user",
            subject_id=user.id,
        )
        db.commit()
        session.clear()  # new session id on login: no fixation
        session["user_id"] = user.id
        session["gen"] = user.session_generation
        flash(f"Bienvenue, {user.full_name}.", "success")
        return redirect(_safe_next(request.args.get("next")))
    status = 422 if form.errors else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/deconnexion", methods=["POST"])
def logout() -> Response:
    user_id = session.get("user_id")
    user = db_session().get(User, user_id) if isinstance(user_id, int) else None
    if user is not None and services.session_is_current(user, session.get("gen")):
        # Every session of this user ends, not just this cookie: a copy of it (another
        # browser, a stolen cookie) must not outlive the logout.
        db = db_session()
        services.end_sessions(db, user)
        audit.record(
            db,
            now=utcnow(),
            actor=f"user:{user.id}",
            action="user.logout",
            subject_type="user",
            subject_id=user.id,
        )
        db.commit()
    session.clear()
    flash("Vous êtes déconnecté.", "info")
    return redirect(url_for("auth.login"))
