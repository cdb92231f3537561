"""The preview a CGV version goes through before it is published: the submitted text, checked
like a publication (every problem at once), kept with its rendered PDF and its table of
articles; then published from that preview only, with the hash that was on screen."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, and_, delete, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from app.messages import msg
from app.plaintext import text_problem
from app.terms import versions
from app.terms.conversion import SourceFormat, articles_of
from app.terms.errors import PreviewNotFound, PreviewNotReady, PreviewStale
from app.terms.models import CgvPreview, CgvVersion
from app.terms.rules import PenaltyDeclaration


def create_preview(
    session: Session,
    draft: versions.CgvDraft,
    *,
    source: SourceFormat,
    filename: str | None,
    now: datetime,
) -> CgvPreview:
    """Check the draft as its publication would (CgvInvalid, every field at once), then keep
    it for its preview. Nothing is published."""
    versions.check_version(session, draft, now)
    penalties = draft.penalties or PenaltyDeclaration(None, None, from_text=True)
    preview = CgvPreview(
        label=draft.label.strip(),
        title=draft.title,
        effective_date=draft.effective_date,
        kind=draft.kind,
        summary=draft.summary,
        body_markdown=draft.body_markdown,
        sha256=versions.text_sha256(draft.body_markdown),
        source_format=source.value,
        # shown on the preview page: a name with control or bidi characters is not kept
        source_filename=filename[:255] if filename and not text_problem(filename) else None,
        late_interest_rule=penalties.rule,
        penalty_article=penalties.article,
        recovery_indemnity=penalties.indemnity,
        penalties_from_text=penalties.from_text,
        created_by_id=draft.published_by_id,
        created_at=now,
    )
    session.add(preview)
    session.flush()
    return preview


def get_preview(session: Session, preview_id: int, *, lock: bool = False) -> CgvPreview:
    query = select(CgvPreview).where(CgvPreview.id == preview_id)
    preview = session.scalar(query.with_for_update() if lock else query)
    if preview is None:
        raise PreviewNotFound(
            msg("Aperçu de CGV n° {preview_id} introuvable.", preview_id=preview_id)
        )
    return preview


def articles(preview: CgvPreview) -> list[str]:
    return articles_of(preview.body_markdown)


def draft_of(preview: CgvPreview) -> versions.CgvDraft:
    return versions.CgvDraft(
        label=preview.label,
        title=preview.title,
        effective_date=preview.effective_date,
        body_markdown=preview.body_markdown,
        summary=preview.summary,
        kind=preview.kind,
        published_by_id=preview.created_by_id,
        penalties=PenaltyDeclaration(
            preview.late_interest_rule,
            preview.penalty_article,
            preview.recovery_indemnity,
            from_text=preview.penalties_from_text,
        ),
    )


def publish_preview(
    session: Session, preview_id: int, *, shown_sha256: str, now: datetime, actor: str
) -> tuple[CgvVersion, bool]:
    """Publish the previewed text, once: the preview's row is locked, and a preview already
    published answers its version (a double click, a retry). PreviewStale when the hash
    posted is not the previewed text's, PreviewNotReady before its PDF was shown. Returns
    the version and whether this call published it."""
    preview = get_preview(session, preview_id, lock=True)
    if preview.published_version_id is not None:
        return versions.get_version(session, preview.published_version_id), False
    if shown_sha256 != preview.sha256:
        raise PreviewStale(
            msg("Le texte à publier n'est pas celui de l'aperçu : rouvrez l'aperçu et vérifiez-le.")
        )
    if preview.rendered_at is None:
        raise PreviewNotReady(
            msg("Le PDF de l'aperçu n'est pas encore rendu : publiez après l'avoir relu.")
        )
    version = versions.record_version(
        session, draft_of(preview), now=now, actor=actor, fan_out=True
    )
    preview.published_version_id = version.id
    return version, True


def _unpublished_before(before: datetime) -> ColumnElement[bool]:
    return and_(CgvPreview.published_version_id.is_(None), CgvPreview.created_at < before)


def purge_unpublished(session: Session, *, before: datetime, dry_run: bool = False) -> int:
    """Delete (or count, ``dry_run``) the previews created before ``before`` and never
    published: drafts legal abandoned, each holding a text and its PDF. A published preview
    stays, the record of the text that was on screen. One DELETE whose condition PostgreSQL
    re-checks under each row's lock: a preview published meanwhile is kept."""
    condition = _unpublished_before(before)
    if dry_run:
        counted = select(func.count()).select_from(CgvPreview).where(condition)
        return int(session.scalar(counted) or 0)
    result = cast(
        CursorResult[Any],
        session.execute(
            delete(CgvPreview).where(condition).execution_options(synchronize_session=False)
        ),
    )
    return result.rowcount
