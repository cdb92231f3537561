"""The CGV publication form: the version as submitted (a file or a pasted text, converted
to Markdown) and the legal declaration of late-payment penalties, checked like its publication;
a valid one goes to its preview (``preview_pages``), nothing is published from here."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from app.auth.guards import current_user, require
from app.auth.rules import Permission
from app.db import utcnow
from app.forms import add_missing_field_errors, apply_field_errors
from app.terms import tasks, versions, workflow
from app.terms.blueprint import bp
from app.terms.conversion import SourceFormat, UnreadableSource, convert
from app.terms.errors import CgvInvalid
from app.terms.forms import FROM_TEXT, CgvVersionForm
from app.terms.models import LateInterestRule, VersionKind
from app.terms.rules import PenaltyDeclaration
from app.terms.versions import CgvDraft
from app.wiring import db_session, hand_over


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
