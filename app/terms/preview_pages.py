"""The preview of a submitted CGV version: its articles and text, its PDF once the job
rendered it, and its publication, bound to the hash of the text shown."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from app.auth.guards import require, signed_in_user
from app.auth.rules import Permission
from app.clock import business_date
from app.db import utcnow
from app.messages import msg
from app.rendering.markdown import markdown_to_html
from app.terms import planning, previews, tasks, workflow
from app.terms.blueprint import bp
from app.terms.errors import PreviewNotReady
from app.wiring import db_session, hand_over


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
    user = signed_in_user()  # the CSRF token was checked before (app-wide CSRFProtect)
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
        flash(f"Version {version.label} publiée ; {progress.after_publication}", "success")
    return redirect(url_for("cgv.show", version_id=version.id))
