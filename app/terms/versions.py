"""CGV versions: publication (checked, then recorded), lookup, and the archived PDF/A."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import services as audit
from app.clients.models import Client
from app.documents.models import Document, DocumentKind
from app.documents.services import deposit
from app.events import recording as events
from app.events.recording import Resource
from app.messages import Day, msg
from app.plaintext import control_character_problem, text_problem
from app.rendering.cgv import CgvDocument, render_cgv_pdf
from app.rendering.labels import label
from app.terms import rules
from app.terms.errors import CgvInvalid, CgvNotFound, NoCgvInForce
from app.terms.models import CgvPreview, CgvVersion, VersionKind
from storage import BlobStore

_LABEL = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]*")


KIND_RULES = {
    VersionKind.MINOR: (
        "Opposable à chaque client dès qu'il en a été informé par courriel et qu'elle est "
        "en vigueur (modification de forme, sans changement d'obligations)."
    ),
    VersionKind.MATERIAL: (
        "Opposable à un client seulement après son acceptation expresse (lien d'acceptation "
        "envoyé par courriel, ou signature de son prochain contrat) ; d'ici là il reste lié "
        "par la dernière version qu'il a acceptée."
    ),
}


def text_sha256(body_markdown: str) -> str:
    """The hash of the exact text shown and accepted (UTF-8 bytes of the Markdown source)."""
    return hashlib.sha256(body_markdown.encode("utf-8")).hexdigest()


def label_taken(label: str) -> str:
    return f"La version {label} existe déjà : une version publiée ne change jamais."


@dataclass(frozen=True)
class CgvDraft:
    """A version as legal submits it (form, command line, demo data)."""

    label: str
    title: str
    effective_date: date
    body_markdown: str
    summary: str
    kind: VersionKind
    published_by_id: int | None = None
    penalties: rules.PenaltyDeclaration | None = None


def publish_version(
    session: Session,
    *,
    label: str,
    title: str,
    effective_date: date,
    body_markdown: str,
    summary: str,
    kind: VersionKind,
    now: datetime,
    actor: str,
    published_by_id: int | None = None,
    penalties: rules.PenaltyDeclaration | None = None,
) -> CgvVersion:
    """Publish a version in the caller's transaction, without its PDF (see
    ``app.terms.workflow.publish_version`` for the publication with its PDF/A)."""
    draft = CgvDraft(
        label, title, effective_date, body_markdown, summary, kind, published_by_id, penalties
    )
    return record_version(session, draft, now=now, actor=actor)


def check_version(session: Session, draft: CgvDraft, now: datetime) -> CgvVersion:
    """The version a draft would publish at ``now``, not added to the session, or CgvInvalid.
    ``penalties`` is legal's declaration of the late-payment terms, checked against the text
    (``rules.declared_penalty_problems``); without one (command line, demo) or when it says so
    (``from_text``), the rule and its article are read from the text, and contradictory
    articles are refused."""
    errors: dict[str, str] = {}
    label = draft.label.strip()
    title, body_markdown, summary = draft.title, draft.body_markdown, draft.summary
    effective_date, penalties = draft.effective_date, draft.penalties
    if not label or len(label) > 20:
        errors["label"] = msg("Le libellé est obligatoire (20 caractères au maximum).")
    elif not _LABEL.fullmatch(label):
        # the label is part of the version's public URL (/cgv/<label>.pdf) and file name
        errors["label"] = msg("Chiffres, lettres, point, tiret ou souligné uniquement (ex. 2.3).")
    elif session.scalar(select(CgvVersion).where(CgvVersion.label == label)) is not None:
        errors["label"] = label_taken(label)
    if not body_markdown.strip():
        errors["body_markdown"] = msg("Le texte des CGV est vide.")
    elif problem := text_problem(body_markdown, multiline=True):
        errors["body_markdown"] = problem  # a NUL broke PostgreSQL, and was archived on SQLite
    if problem := text_problem(title):
        errors["title"] = problem
    if problem := control_character_problem(summary, multiline=True):
        errors["summary"] = problem
    if len(title.strip()) > 200:
        errors["title"] = msg("200 caractères au maximum.")
    latest = session.scalar(select(CgvVersion).order_by(CgvVersion.effective_date.desc()))
    if latest is not None and effective_date < latest.effective_date:
        errors["effective_date"] = msg(
            "La date d'entrée en vigueur précède celle de la version {latest_label} "
            "({latest_effective_date}).",
            latest_label=latest.label,
            latest_effective_date=Day(latest.effective_date),
        )
    if penalties is None:
        penalties = rules.PenaltyDeclaration(None, None, from_text=True)
    if penalties.from_text:
        stated, conflict = rules.stated_penalties(body_markdown)
        if conflict:
            errors["body_markdown"] = conflict
        penalties = rules.PenaltyDeclaration(stated.rule, stated.article, penalties.indemnity)
        if problem := rules.indemnity_problem(penalties.indemnity):
            errors["recovery_indemnity"] = problem
    else:
        article = (penalties.article or "").strip() or None
        penalties = rules.PenaltyDeclaration(penalties.rule, article, penalties.indemnity)
        for name, message in rules.declared_penalty_problems(
            body_markdown, penalties.rule, penalties.article, penalties.indemnity
        ).items():
            errors.setdefault(name, message)
    if errors:
        raise CgvInvalid(errors)
    if penalties.article is not None and (
        section := rules.find_section(body_markdown, penalties.article)
    ):
        penalties = rules.PenaltyDeclaration(penalties.rule, section.title, penalties.indemnity)
    return CgvVersion(
        label=label,
        title=title.strip() or "Conditions générales de vente",
        effective_date=effective_date,
        body_markdown=body_markdown,
        sha256=text_sha256(body_markdown),
        summary=summary.strip(),
        kind=draft.kind,
        published_at=now,
        published_by_id=draft.published_by_id,
        late_interest_rule=penalties.rule,
        penalty_article=penalties.article[:200] if penalties.article else None,
        recovery_indemnity=penalties.indemnity,
    )


def record_version(
    session: Session, draft: CgvDraft, *, now: datetime, actor: str, fan_out: bool = False
) -> CgvVersion:
    """Check the draft again (in the writing transaction: a label taken meanwhile is refused)
    and record the version, journaled. ``fan_out``: the clients are to be notified by the
    background jobs (the publication form), so the version waits for its fan-out, which the
    sweep runs if its job is lost; otherwise (command line, demo data, which notify nobody)
    there is no fan-out to wait for."""
    version = check_version(session, draft, now)
    if not fan_out:
        version.notifications_planned_at = now
    session.add(version)
    session.flush()
    audit.record(
        session,
        now=now,
        actor=actor,
        action="cgv.published",
        subject_type="cgv_version",
        subject_id=version.id,
        details={"label": version.label, "sha256": version.sha256, "kind": version.kind.value},
    )
    events.record(
        session,
        "cgv.version_published",
        Resource("cgv_version", version.id, f"/api/v1/cgv-versions/{version.id}"),
        {
            "label": version.label,
            "kind": version.kind.value,
            "effective_on": version.effective_date.isoformat(),
            "sha256": version.sha256,
        },
        now=now,
    )
    return version


def version_in_force(session: Session, on: date) -> CgvVersion:
    version = session.scalar(
        select(CgvVersion)
        .where(CgvVersion.effective_date <= on)
        .order_by(CgvVersion.effective_date.desc(), CgvVersion.id.desc())
    )
    if version is None:
        raise NoCgvInForce(
            msg("Aucune version des CGV n'est en vigueur : un juriste doit en publier une.")
        )
    return version


def get_version(session: Session, version_id: int) -> CgvVersion:
    version = session.get(CgvVersion, version_id)
    if version is None:
        raise CgvNotFound(msg("Version de CGV n° {version_id} introuvable.", version_id=version_id))
    return version


def list_versions(session: Session) -> Sequence[CgvVersion]:
    return session.scalars(select(CgvVersion).order_by(CgvVersion.effective_date.desc())).all()


def get_version_by_label(session: Session, label: str) -> CgvVersion:
    version = session.scalar(select(CgvVersion).where(CgvVersion.label == label))
    if version is None:
        raise CgvNotFound(
            msg("Aucune version publiée des CGV ne porte le libellé « {label} ».", label=label)
        )
    return version


def pdf_filename(version: CgvVersion) -> str:
    safe = "".join(c if c.isalnum() or c in ".-_" else "_" for c in version.label)
    return f"cgv-{safe}.pdf"


def cgv_document(version: CgvVersion | CgvPreview, *, vendor_name: str) -> CgvDocument:
    """The PDF's content of a version, or of a preview (dated its submission: the preview
    shows the document as it will read, and is never archived)."""
    if isinstance(version, CgvPreview):
        title = version.title.strip() or "Conditions générales de vente"
        summary, published_at = version.summary.strip(), version.created_at
    else:
        title, summary, published_at = version.title, version.summary, version.published_at
    return CgvDocument(
        vendor_name=vendor_name,
        label=version.label.strip(),
        title=title,
        effective_date=version.effective_date,
        kind_label=label(version.kind),
        summary=summary,
        body_markdown=version.body_markdown,
        sha256=version.sha256,
        published_at=published_at,
    )


def render_pdf(version: CgvVersion, *, vendor_name: str) -> bytes:
    """The version's PDF/A. Deterministic (its dates are the publication time): rendered
    before the version is recorded or on a later first request, it is the same document."""
    return render_cgv_pdf(cgv_document(version, vendor_name=vendor_name))


def archive_pdf(
    session: Session,
    store: BlobStore,
    version: CgvVersion,
    *,
    vendor_name: str,
    now: datetime,
    actor: str,
    pdf: bytes | None = None,
) -> Document:
    """The version's PDF/A, rendered once and archived (kind cgv, no client). A version
    published before PDFs existed (command line) gets it on first request; the rendering is
    deterministic (dates are the publication time), so it is the same document either way.
    ``pdf`` is that rendering when the caller made it before opening its transaction."""
    document_id = version.document_id
    if document_id is None and version.id is not None:
        # Two first requests at once must not archive the PDF twice: the second waits for
        # the first's commit on the version row, then reads its document (PostgreSQL; on
        # SQLite every write transaction is already serialised by BEGIN IMMEDIATE). A
        # column read, not a refresh: the caller may hold unflushed changes on the version.
        session.flush()
        document_id = session.scalar(
            select(CgvVersion.document_id).where(CgvVersion.id == version.id).with_for_update()
        )
    if document_id is not None:
        document = session.get(Document, document_id)
        assert document is not None  # foreign key
        return document
    if pdf is None:
        pdf = render_pdf(version, vendor_name=vendor_name)
    document = deposit(
        session,
        store,
        kind=DocumentKind.CGV,
        client_id=None,
        reference=f"CGV-{version.label}",
        version=1,
        data=pdf,
        media_type="application/pdf",
        filename=pdf_filename(version),
        now=now,
        actor=actor,
    )
    version.document_id = document.id
    return document


def client_names(session: Session, client_ids: Iterable[int]) -> dict[int, str]:
    """The legal names of these clients, by id: a version's page names the clients it was
    sent to and accepted by, not their numbers."""
    ids = set(client_ids)
    if not ids:
        return {}
    rows = session.execute(select(Client.id, Client.legal_name).where(Client.id.in_(ids)))
    return dict(rows.tuples().all())
