"""The landing page after login: the sales dashboard (what needs action now, recent activity,
search) for the roles that follow contracts; links for the others."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app.auth.guards import current_user
from app.auth.rules import Permission, can
from app.dashboard import services as dashboard
from app.db import utcnow
from app.wiring import read_only_db_session

bp = Blueprint("home", __name__)


@bp.route("/")
def index() -> str | Response:
    user = current_user()
    if user is None:
        return redirect(url_for("auth.login"))
    board = None
    if can(user.role, Permission.VIEW_CONTRACTS):
        board = dashboard.overview(
            read_only_db_session(),
            utcnow(),
            invoices=can(user.role, Permission.VIEW_INVOICES),
            query=request.args.get("q", ""),
        )
    return render_template("home.html", user=user, board=board)
