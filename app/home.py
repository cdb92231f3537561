"""The landing page after login."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from werkzeug.wrappers import Response

from app.auth.guards import current_user

bp = Blueprint("home", __name__)


@bp.route("/")
def index() -> str | Response:
    user = current_user()
    if user is None:
        return redirect(url_for("auth.login"))
    return render_template("home.html", user=user)
