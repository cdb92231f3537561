"""The CGV pages' blueprint, apart so that each group of pages registers on it."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("cgv", __name__, url_prefix="/cgv")
