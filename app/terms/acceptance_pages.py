"""The click-through acceptance page a client's notification links to: the version shown,
then accepted with the hash of the text on screen."""

from __future__ import annotations

from flask import render_template, request

from app.db import utcnow
from app.extensions import limiter
from app.terms import notifications
from app.terms.acceptances import ClickThrough
from app.terms.blueprint import bp
from app.terms.errors import ConsentMissing
from app.terms.models import CgvNotification
from app.wiring import db_session, unit_of_work


@bp.route("/accepter/<token>", methods=["GET"])
@limiter.limit("60 per minute")
def accept_page(token: str) -> str:
    notification = notifications.find_acceptance_link(db_session(), token, utcnow())
    return _render_accept(notification, token)


def _render_accept(notification: CgvNotification, token: str, error: str | None = None) -> str:
    version = notification.cgv_version
    return render_template(
        "terms/accept.html",
        notification=notification,
        version=version,
        token=token,
        error=error,
    )


@bp.route("/accepter/<token>", methods=["POST"])
@limiter.limit("10 per minute")
def accept(token: str) -> str | tuple[str, int]:
    now = utcnow()
    raw_id = request.form.get("version_id", "")
    # ASCII only: "²".isdigit() is True but int("²") fails
    readable = raw_id.isascii() and raw_id.isdigit() and len(raw_id) < 10
    try:
        with unit_of_work() as db:
            acceptance = notifications.accept_through_link(
                db,
                token,
                version_id=int(raw_id) if readable else None,
                click=ClickThrough(
                    shown_sha256=request.form.get("text_sha256", ""),
                    consent=request.form.get("accept") == "oui",
                    ip=request.remote_addr,
                    user_agent=request.user_agent.string,
                ),
                now=now,
            )
    except ConsentMissing as exc:
        notification = notifications.find_acceptance_link(db_session(), token, now)
        return _render_accept(notification, token, error=exc.detail), 422
    return render_template("terms/accepted.html", acceptance=acceptance)
