"""CGV pages: versions (list, publication, detail), the public PDF, the click-through
acceptance page, reports and the article-level comparison."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from app.auth.guards import current_user, require
from app.auth.rules import Permission
from app.clock import business_date
from app.db import utcnow
from app.documents.serving import document_response
from app.extensions import limiter
from app.forms import add_missing_field_errors, apply_field_errors
from app.messages import msg
from app.rendering.labels import ARTICLE_CHANGE_LABELS
from app.rendering.markdown import markdown_to_html
from app.terms import (
    acceptances,
    notifications,
    planning,
    previews,
    schemas,
    tasks,
    versions,
    workflow,
)
from app.terms.comparison import compare_articles
from app.terms.conversion import SourceFormat, UnreadableSource, convert
from app.terms.errors import (
    CgvInvalid,
    CgvNotFound,
    CgvQueryInvalid,
    ConsentMissing,
    PreviewNotReady,
)
from app.terms.forms import FROM_TEXT, CgvVersionForm
from app.terms.models import CgvNotification, LateInterestRule, VersionKind
from app.terms.report import NO_VERSION, opposability_report
from app.terms.rules import PenaltyDeclaration
from app.terms.schemas import parse_at
from app.terms.versions import CgvDraft
from app.wiring import db_session, hand_over, runtime, unit_of_work

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
    """The version as submitted — a file (.md, .txt, .docx) or a pasted text — checked like
    its publication, every problem at once; a valid one goes to its preview, nothing is
    published from here."""
    form = CgvVersionForm()
    if not form.is_submitted():
        return render_template("terms/new.html", form=form, source_error=None)
    valid = form.validate()
    submitted = _submitted_text(form)
    draft = _draft(form, submitted.markdown) if form.effective_date.data else None
    if valid and submitted.problem is None and draft is not None:
        user = current_user()
        assert user is not None  # guaranteed by @require
        try:
            preview_id = workflow.prepare_preview(
                hand_over(), draft, source=submitted.source, filename=submitted.filename
            )
        except CgvInvalid as exc:
            apply_field_errors(form, exc)
        else:
            # rendering the PDF takes seconds: a job, whose progress the preview page follows
            tasks.render_preview.enqueue(preview_id)
            return redirect(url_for("cgv.preview", preview_id=preview_id))
    elif draft is not None:
        try:  # the domain's problems too, so that one submission shows them all
            versions.check_version(db_session(), draft, utcnow())
        except CgvInvalid as exc:
            add_missing_field_errors(form, exc)
    return render_template("terms/new.html", form=form, source_error=submitted.problem), 422


MAX_SOURCE = 5 * 1024 * 1024
SOURCE_EXTENSIONS = {
    ".md": SourceFormat.MARKDOWN,
    ".markdown": SourceFormat.MARKDOWN,
    ".txt": SourceFormat.TEXT,
    ".docx": SourceFormat.DOCX,
}


@dataclass(frozen=True)
class _Submitted:
    markdown: str
    source: SourceFormat
    filename: str | None
    problem: str | None  # why the file could not be read (shown under the file input)


def _submitted_text(form: CgvVersionForm) -> _Submitted:
    """The text of the version in Markdown: the uploaded file's, converted by its extension,
    else the pasted text's, converted as its declared format."""
    upload = request.files.get("source")
    if upload is None or not upload.filename:
        pasted = form.body_markdown.data or ""
        declared = form.source_format.data  # an unknown choice is the form's error
        pasted_formats = (SourceFormat.MARKDOWN.value, SourceFormat.TEXT.value)
        source = SourceFormat(declared) if declared in pasted_formats else SourceFormat.TEXT
        return _Submitted(convert(pasted, source).markdown if pasted else "", source, None, None)
    filename = upload.filename
    source = SOURCE_EXTENSIONS.get(Path(filename).suffix.casefold(), SourceFormat.TEXT)
    try:
        data = upload.stream.read(MAX_SOURCE + 1)
    finally:
        upload.close()
    if Path(filename).suffix.casefold() not in SOURCE_EXTENSIONS:
        problem = "Format non pris en charge : déposez un fichier .docx, .txt ou .md."
        return _Submitted("", source, filename, problem)
    if len(data) > MAX_SOURCE:
        return _Submitted("", source, filename, "Fichier trop volumineux (5 Mo au plus).")
    try:
        markdown = convert(data, source).markdown
    except UnreadableSource as exc:
        return _Submitted("", source, filename, str(exc))
    if len(markdown) > 500_000:
        return _Submitted("", source, filename, "Texte trop long (500 000 caractères au plus).")
    return _Submitted(markdown, source, filename, None)


def _draft(form: CgvVersionForm, body_markdown: str) -> CgvDraft:
    user = current_user()
    assert form.effective_date.data is not None  # the caller checked
    return CgvDraft(
        label=form.label.data or "",
        title=form.title.data or "",
        effective_date=form.effective_date.data,
        body_markdown=body_markdown,
        summary=form.summary.data or "",
        kind=VersionKind(form.kind.data)
        if form.kind.data in set(VersionKind)
        else VersionKind.MINOR,
        published_by_id=user.id if user is not None else None,
        penalties=_penalty_declaration(form),
    )


@bp.route("/apercus/<int:preview_id>")
@require(Permission.PUBLISH_CGV)
def preview(preview_id: int) -> str:
    """The submitted version before publication: its table of articles (a warning when
    none was recognised), its text as rendered, its PDF once the job rendered it, and the
    publication button bound to the hash of this text."""
    shown = previews.get_preview(db_session(), preview_id)
    return render_template(
        "terms/preview.html",
        preview=shown,
        articles=previews.articles(shown),
        body_html=markdown_to_html(shown.body_markdown),
        published=shown.published_version_id,
    )


@bp.route("/apercus/<int:preview_id>/etat")
@require(Permission.PUBLISH_CGV)
def preview_status(preview_id: int) -> dict[str, object]:
    """Polled by the preview page (static/cgv-preview.js) while its PDF renders."""
    shown = previews.get_preview(db_session(), preview_id)
    return {"rendered": shown.rendered_at is not None}


@bp.route("/apercus/<int:preview_id>.pdf")
@require(Permission.PUBLISH_CGV)
def preview_pdf(preview_id: int) -> Response:
    shown = previews.get_preview(db_session(), preview_id)
    if shown.pdf is None:
        raise PreviewNotReady(msg("Le PDF de l'aperçu est en cours de rendu."))
    response = Response(shown.pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="apercu-cgv-{shown.id}.pdf"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/apercus/<int:preview_id>/publier", methods=["POST"])
@require(Permission.PUBLISH_CGV)
def publish_preview(preview_id: int) -> BaseResponse:
    """Publish the previewed text: the form carries the hash of the text on screen, and a
    second click (or a retry) finds the version already published."""
    user = current_user()  # the CSRF token was checked before (app-wide CSRFProtect)
    assert user is not None  # guaranteed by @require
    version, published = workflow.publish_preview(
        hand_over(),
        preview_id,
        shown_sha256=request.form.get("sha256", ""),
        actor=f"user:{user.id}",
    )
    if published:
        # The PDF/A and the mails are jobs: with a worker, the request answers now and the
        # version's page shows the progress; inline (no broker), they have already run.
        tasks.after_publication(version.id)
        progress = planning.progress_of(db_session(), [version.id], business_date(utcnow()))[
            version.id
        ]
        flash(
            f"Version {version.label} publiée ; {progress.notified} client(s) notifié(s)"
            + ("." if progress.done else " : les autres courriels partent en arrière-plan."),
            "success",
        )
    return redirect(url_for("cgv.show", version_id=version.id))


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
        # an unknown choice is the form's own error; the other checks still run
        rule=LateInterestRule(choice) if choice in set(LateInterestRule) else None,
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
        notifications=notifications.notifications_page(
            db, version.id, _number_arg("page", 1, "Numéro de page attendu.")
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
                shown_sha256=request.form.get("text_sha256", ""),
                consent=request.form.get("accept") == "oui",
                now=now,
                ip=request.remote_addr,
                user_agent=request.user_agent.string,
            )
    except ConsentMissing as exc:
        notification = notifications.find_acceptance_link(db_session(), token, now)
        return _render_accept(notification, token, error=exc.detail), 422
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
