"""CGV version pages: the list, a version with its acceptances and notification progress,
the public PDF of a published version, and the article-level comparison of two versions."""

from __future__ import annotations

from flask import Response, render_template, request

from app.auth.guards import require
from app.auth.rules import Permission
from app.clock import business_date
from app.db import utcnow
from app.documents.serving import document_response
from app.extensions import limiter
from app.messages import msg
from app.rendering.labels import ARTICLE_CHANGE_LABELS
from app.terms import acceptances, notifications, planning, schemas, versions, workflow
from app.terms.blueprint import bp
from app.terms.comparison import compare_articles
from app.terms.errors import CgvNotFound, CgvQueryInvalid
from app.wiring import db_session, hand_over, runtime


@bp.route("/")
@require(Permission.VIEW_CGV)
def index() -> str:
    return render_template(
        "terms/index.html",
        versions=versions.list_versions(db_session()),
    )


@bp.route("/versions/<int:version_id>")
@require(Permission.VIEW_CGV)
def show(version_id: int) -> str:
    db = db_session()
    version = versions.get_version(db, version_id)
    accepted = acceptances.acceptances_of_version(db, version.id)
    notified = notifications.notifications_page(
        db, version.id, _number_arg("page", 1, "Numéro de page attendu.")
    )
    return render_template(
        "terms/show.html",
        version=version,
        kind_rules=versions.KIND_RULES,
        acceptances=accepted,
        notifications=notified,
        client_names=versions.client_names(
            db, [a.client_id for a in accepted] + [n.client_id for n in notified.rows]
        ),
        progress=planning.progress_of(db, [version.id], business_date(utcnow()))[version.id],
    )


@bp.route("/versions/<int:version_id>/avancement")
@require(Permission.VIEW_CGV)
def progress(version_id: int) -> dict[str, object]:
    """The notification progress, polled by the version's page (static/cgv-progress.js)."""
    db = db_session()
    version = versions.get_version(db, version_id)
    return schemas.progress_json(
        planning.progress_of(db, [version.id], business_date(utcnow()))[version.id]
    )


@bp.route("/<label>.pdf")
@limiter.limit("120 per minute")
def pdf(label: str) -> Response:
    """Public and stable: the text of a published version, as archived."""
    document = workflow.archived_pdf(hand_over(), label)
    rt = runtime()
    db = db_session()
    return document_response(
        db,
        rt.store,
        document,
        actor="public",
        download=False,
        cache_control="public, max-age=86400, immutable",
        # Public text fetched by anyone: checked, but only a failed check is journaled.
        journal_read=False,
    )


@bp.route("/comparer")
@require(Permission.VIEW_CGV)
def compare() -> str:
    """?de=<id>&a=<id>; by default the previous version against the latest."""
    db = db_session()
    published = versions.list_versions(db)
    if not published:
        raise CgvNotFound(msg("Aucune version des CGV n'est publiée : rien à comparer."))
    default_old = published[1] if len(published) > 1 else published[0]
    old = versions.get_version(db, _number_arg("de", default_old.id, VERSION_EXPECTED))
    new = versions.get_version(db, _number_arg("a", published[0].id, VERSION_EXPECTED))
    return render_template(
        "terms/compare.html",
        versions=published,
        old=old,
        new=new,
        diff=compare_articles(old.body_markdown, new.body_markdown),
        change_labels=ARTICLE_CHANGE_LABELS,
    )


VERSION_EXPECTED = "Numéro de version attendu."


def _number_arg(name: str, default: int, problem: str) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    # ASCII only: "²".isdigit() is True but int("²") fails
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        raise CgvQueryInvalid({name: problem})
    return int(raw)
