"""GET /api/v1/documents/{id}/verification: the signature report of an archived PDF."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from app.auth.guards import current_token, require_scope
from app.auth.models import Scope
from app.db import utcnow
from app.documents.errors import DocumentIntegrityFailed
from app.http_errors import prefers_english
from app.pki import trust_roots
from app.signatures import schemas
from app.signatures.verdict import verdict
from app.signatures.verification import verify_document
from app.wiring import db_session, runtime

bp = Blueprint("signatures_api", __name__, url_prefix="/api/v1")


@bp.get("/documents/<int:document_id>/verification")
@require_scope(Scope.READ)
def verification(document_id: int) -> dict[str, Any]:
    rt = runtime()
    db = db_session()
    try:
        result = verify_document(
            db,
            rt.store,
            document_id,
            trust_roots=trust_roots(rt.settings),
            now=utcnow(),
            actor=f"token:{current_token().id}",
        )
    except DocumentIntegrityFailed:
        db.commit()  # the failed check is journaled before the refusal is answered
        raise
    db.commit()  # the read is journaled
    # the verdict first, in French unless the client ranks English above French
    said = verdict(result.report, "en" if prefers_english() else "fr")
    return {
        "verdict": said.summary,
        "verdict_ok": said.ok,
        "details": list(said.details),
        "document_id": document_id,
        "sha256": result.sha256,
        **schemas.report_json(result.report),
    }
