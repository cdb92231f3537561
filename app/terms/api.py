"""CGV API (/api/v1): which versions exist, which a client accepted, which binds it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Blueprint, request, url_for

from app.auth.guards import require_scope
from app.auth.models import Scope
from app.clients.services import get_client
from app.clock import business_date
from app.db import utcnow
from app.terms import schemas
from app.terms.acceptances import acceptances_of, acceptances_of_version, opposable_for
from app.terms.models import CgvAcceptance, CgvVersion
from app.terms.planning import Progress, progress_of
from app.terms.versions import get_version, list_versions
from app.wiring import db_session

bp = Blueprint("terms_api", __name__, url_prefix="/api/v1")


@bp.get("/clients/<int:client_id>/cgv-acceptances")
@require_scope(Scope.READ)
def client_acceptances(client_id: int) -> dict[str, Any]:
    db = db_session()
    client = get_client(db, client_id)
    items = _acceptances_json(acceptances_of(db, client.id), known="client_id")
    return {"client_id": client.id, "items": items}


@bp.get("/clients/<int:client_id>/cgv")
@require_scope(Scope.READ)
def client_opposable(client_id: int) -> dict[str, Any]:
    at = schemas.parse_at(request.args.get("at"), business_date(utcnow()))
    db = db_session()
    client = get_client(db, client_id)
    found = opposable_for(db, client.id, at)
    return {
        "client_id": client.id,
        "at": at.isoformat(),
        "cgv_version": schemas.version_summary(found.version) if found.version else None,
        "reason": found.reason,
    }


def _version_json(version: CgvVersion, progress: Progress) -> dict[str, Any]:
    body = schemas.version_summary(version)
    body.update(
        {
            "title": version.title,
            "summary": version.summary,
            "published_at": version.published_at.isoformat(),
            "document_id": version.document_id,
            "notifications": schemas.progress_json(progress),
            "links": {
                "self": url_for("terms_api.get_cgv_version", version_id=version.id),
                "pdf": url_for("cgv.pdf", label=version.label),
                "acceptances": url_for("terms_api.cgv_version_acceptances", version_id=version.id),
            },
        }
    )
    return body


@bp.get("/cgv-versions")
@require_scope(Scope.READ)
def list_cgv_versions() -> dict[str, Any]:
    db = db_session()
    published = list_versions(db)
    progress = progress_of(db, [v.id for v in published], business_date(utcnow()))
    return {"items": [_version_json(v, progress[v.id]) for v in published]}


@bp.get("/cgv-versions/<int:version_id>")
@require_scope(Scope.READ)
def get_cgv_version(version_id: int) -> dict[str, Any]:
    db = db_session()
    version = get_version(db, version_id)
    return _version_json(
        version, progress_of(db, [version.id], business_date(utcnow()))[version.id]
    )


@bp.get("/cgv-versions/<int:version_id>/acceptances")
@require_scope(Scope.READ)
def cgv_version_acceptances(version_id: int) -> dict[str, Any]:
    db = db_session()
    version = get_version(db, version_id)
    items = _acceptances_json(acceptances_of_version(db, version.id), known="cgv_version")
    return {"cgv_version_id": version.id, "label": version.label, "items": items}


def _acceptances_json(acceptances: Iterable[CgvAcceptance], *, known: str) -> list[dict[str, Any]]:
    """The acceptances without the member the whole answer already states once (`known`)."""
    items = []
    for a in acceptances:
        item = schemas.acceptance_json(a)
        del item[known]
        items.append(item)
    return items
