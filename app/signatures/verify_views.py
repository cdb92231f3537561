"""Public verification of a PDF's signatures (anyone may upload one)."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from app.db import utcnow
from app.extensions import limiter
from app.pki import trust_roots
from app.signatures import verification
from app.signatures.errors import NotAPdf
from app.signatures.verdict import verdict
from app.wiring import db_session, runtime

verify_bp = Blueprint("verify", __name__, url_prefix="/verify")
limiter.limit("30 per minute")(verify_bp)
MAX_UPLOAD = 20 * 1024 * 1024


@verify_bp.route("", methods=["GET"])
def verify_form() -> str:
    return render_template("signing/verify.html", result=None, error=None)


@verify_bp.route("", methods=["POST"])
@limiter.limit("10 per minute")
def verify_upload() -> tuple[str, int]:
    if request.content_length is not None and request.content_length > MAX_UPLOAD + 64 * 1024:
        return _verify_error("Fichier trop volumineux (20 Mo au plus).", 413)
    upload = request.files.get("document")
    if upload is None or not upload.filename:
        return _verify_error("Choisissez un fichier PDF.", 422)
    try:
        data = upload.stream.read(MAX_UPLOAD + 1)
    finally:
        upload.close()  # large uploads are spooled to a temporary file
    if len(data) > MAX_UPLOAD:
        return _verify_error("Fichier trop volumineux (20 Mo au plus).", 413)
    rt = runtime()
    try:
        result = verification.verify_bytes(
            db_session(), data, trust_roots=trust_roots(rt.settings), now=utcnow()
        )
    except NotAPdf as exc:
        return _verify_error(exc.detail, 422)
    return render_template(
        "signing/verify.html", result=result, verdict=verdict(result.report), error=None
    ), 200


def _verify_error(message: str, status: int) -> tuple[str, int]:
    return render_template("signing/verify.html", result=None, error=message), status
