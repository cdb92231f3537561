"""CGV pages: versions (list, publication, detail), the public PDF, the click-through
acceptance page, reports and the article-level comparison."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal, InvalidOperation

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from app.auth.guards import current_user, require
from app.auth.rules import Permission
from app.clock import business_date
from app.db import utcnow
from app.documents.serving import document_response
from app.extensions import limiter
from app.forms import apply_field_errors
from app.terms import acceptances, notifications, schemas, tasks, versions, workflow
from app.terms.comparison import compare_articles
from app.terms.errors import CgvInvalid, CgvNotFound, CgvQueryInvalid, ConsentMissing
from app.terms.forms import FROM_TEXT, SILENT, CgvVersionForm
from app.terms.models import CgvNotification, LateInterestRule, VersionKind
from app.terms.report import NO_VERSION, opposability_report
from app.terms.rules import PenaltyDeclaration
from app.terms.schemas import parse_at
from app.terms.versions import CgvDraft
from app.wiring import db_session, hand_over, runtime

bp = Blueprint("cgv", __name__, url_prefix="/cgv")


@bp.route("/")
@require(Permission.VIEW_CGV)
def index() -> str:
    return render_template(
        "terms/index.html",
        versions=versions.list_versions(db_session()),
    )


@bp.route("/nouvelle", methods=["GET", "POST"])
@require(Permission.PUBLISH_CGV)
def new() -> str | BaseResponse | tuple[str, int]:
    form = CgvVersionForm()
    if form.validate_on_submit():
        user = current_user()
        assert user is not None  # guaranteed by @require
        assert form.effective_date.data is not None  # DataRequired
        draft = CgvDraft(
            label=form.label.data or "",
            title=form.title.data or "",
            effective_date=form.effective_date.data,
            body_markdown=form.body_markdown.data or "",
            summary=form.summary.data or "",
            kind=VersionKind(form.kind.data),
            published_by_id=user.id,
            penalties=_penalty_declaration(form),
        )
        try:
            version = workflow.publish(hand_over(), draft, actor=f"user:{user.id}")
        except CgvInvalid as exc:
            apply_field_errors(form, exc)
            return render_template("terms/new.html", form=form), 422
        # The PDF/A and the mails are jobs: with a worker, the request answers now and the
        # version's page shows the progress; inline (no broker), they have already run.
        tasks.after_publication(version.id)
        progress = notifications.progress_of(db_session(), [version.id])[version.id]
        flash(
            f"Version {version.label} publiée ; {progress.notified} client(s) notifié(s)"
            + ("." if progress.done else " : les autres courriels partent en arrière-plan."),
            "success",
        )
        return redirect(url_for("cgv.show", version_id=version.id))
    status = 422 if form.errors else 200
    return render_template("terms/new.html", form=form), status


def _penalty_declaration(form: CgvVersionForm) -> PenaltyDeclaration:
    """What legal declared of late payment; an amount that is not one is NaN, which the
    service refuses with the other problems of the submission."""
    raw = (form.recovery_indemnity.data or "40").strip().replace("\u202f", "").replace(" ", "")
    try:
        indemnity = Decimal(raw.replace(",", ".").removesuffix("€"))
    except InvalidOperation:
        indemnity = Decimal("NaN")
    choice = form.late_interest_rule.data
    return PenaltyDeclaration(
        rule=None if choice in (FROM_TEXT, SILENT) else LateInterestRule(choice),
        article=form.penalty_article.data or None,
        indemnity=indemnity,
        from_text=choice == FROM_TEXT,
    )


@bp.route("/versions/<int:version_id>")
@require(Permission.VIEW_CGV)
def show(version_id: int) -> str:
    db = db_session()
    version = versions.get_version(db, version_id)
    return render_template(
        "terms/show.html",
        version=version,
        kind_rules=versions.KIND_RULES,
        acceptances=acceptances.acceptances_of_version(db, version.id),
        notifications=notifications.notifications_of_version(db, version.id),
        progress=notifications.progress_of(db, [version.id])[version.id],
    )


@bp.route("/versions/<int:version_id>/avancement")
@require(Permission.VIEW_CGV)
def progress(version_id: int) -> dict[str, object]:
    """The notification progress, polled by the version's page (static/cgv-progress.js)."""
    db = db_session()
    version = versions.get_version(db, version_id)
    return schemas.progress_json(notifications.progress_of(db, [version.id])[version.id])


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
    db = db_session()
    now = utcnow()
    raw_id = request.form.get("version_id", "")
    try:
        acceptance = notifications.accept_through_link(
            db,
            token,
            version_id=int(raw_id) if raw_id.isdigit() and len(raw_id) < 10 else None,
            shown_sha256=request.form.get("text_sha256", ""),
            consent=request.form.get("accept") == "oui",
            now=now,
            ip=request.remote_addr,
            user_agent=request.user_agent.string,
        )
    except ConsentMissing as exc:
        db.rollback()
        notification = notifications.find_acceptance_link(db, token, now)
        return _render_accept(notification, token, error=exc.detail), 422
    db.commit()
    return render_template("terms/accepted.html", acceptance=acceptance)


def _report_date() -> date:
    # the report page's date field left empty means today (the API refuses an empty `at`)
    return parse_at(request.args.get("at") or None, business_date(utcnow()))


@bp.route("/rapport")
@require(Permission.VIEW_CLIENTS)
def report() -> str:
    report = opposability_report(db_session(), _report_date())
    return render_template("terms/report.html", report=report)


@bp.route("/rapport.csv")
@require(Permission.VIEW_CLIENTS)
def report_csv() -> Response:
    report = opposability_report(db_session(), _report_date())
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(
        [
            "client_id",
            "raison_sociale",
            "siren",
            "version_opposable",
            "motif",
            "lie_par_" + "derniere_version_substantielle",
        ]
    )
    for row in report.rows:
        writer.writerow(
            [
                row.client.id,
                _csv_safe(row.client.legal_name),
                row.client.siren,
                row.version.label if row.version else NO_VERSION,
                row.reason,
                "oui" if row.bound_by_latest_material else "non",
            ]
        )
    response = Response("\ufeff" + out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="cgv-opposables-{report.at.isoformat()}.csv"'
    )
    return response


def _csv_safe(value: str) -> str:
    """A client name starting with = + - @ would run as a formula in a spreadsheet."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@bp.route("/comparer")
@require(Permission.VIEW_CGV)
def compare() -> str:
    """?de=<id>&a=<id>; by default the previous version against the latest."""
    db = db_session()
    published = versions.list_versions(db)
    if not published:
        raise CgvNotFound("Aucune version des CGV n'est publiée : rien à comparer.")
    default_old = published[1] if len(published) > 1 else published[0]
    old = versions.get_version(db, _version_arg("de", default_old.id))
    new = versions.get_version(db, _version_arg("a", published[0].id))
    return render_template(
        "terms/compare.html",
        versions=published,
        old=old,
        new=new,
        diff=compare_articles(old.body_markdown, new.body_markdown),
    )


def _version_arg(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or len(raw) > 9:
        raise CgvQueryInvalid({name: "Numéro de version attendu."})
    return int(raw)
