"""The vendor's logo and colour as the pages load them (app/branding.py reads the settings).

The colour comes as a tiny stylesheet rather than an inline style: the Content-Security-Policy
allows styles from 'self' only, which keeps injected markup from restyling a signing page."""

from __future__ import annotations

from flask import Blueprint, Response, abort

from app.wiring import runtime

bp = Blueprint("branding", __name__, url_prefix="/identite")

_CACHE = "public, max-age=3600"


@bp.route("/logo")
def logo() -> Response:
    branding = runtime().settings.vendor.branding
    if branding.logo_path is None:  # a remote logo: the pages link it directly
        abort(404)
    # A logo is a few kilobytes: read whole, no file left open by an unread response.
    response = Response(branding.logo_path.read_bytes(), mimetype=branding.logo_media_type)
    # An SVG is a document that may carry scripts: opened on its own, it must run none.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response.headers["Cache-Control"] = _CACHE
    return response


@bp.route("/couleurs.css")
def colours() -> Response:
    colour = runtime().settings.vendor.branding.colour  # #rrggbb, checked at start
    response = Response(f":root {{ --accent: {colour}; }}\n", mimetype="text/css")
    response.headers["Cache-Control"] = _CACHE
    return response
