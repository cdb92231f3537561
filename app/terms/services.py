"""CGV versions and their acceptance by clients."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import services as audit
from app.clients.models import Client, ClientStatus
from app.clock import PARIS, business_date
from app.documents.models import Document, DocumentKind
from app.documents.services import deposit
from app.mail import OutgoingMail
from app.plaintext import control_character_problem, text_problem
from app.rendering.cgv import CgvDocument, render_cgv_pdf
from app.terms import rules
from app.terms.errors import (
    AcceptanceLinkGone,
    AcceptanceLinkUnknown,
    AcceptanceRefused,
    CgvInvalid,
    CgvNotFound,
    ConsentMissing,
    NoCgvInForce,
)
from app.terms.models import (
    AcceptanceMethod,
    CgvAcceptance,
    CgvNotification,
    CgvVersion,
    VersionKind,
)
from app.tokens import new_link_token, token_hash
from storage import BlobStore

_LABEL = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]*")


def text_sha256(body_markdown: str) -> str:
    """The hash of the exact text shown and accepted (UTF-8 bytes of the Markdown source)."""
    return hashlib.sha256(body_markdown.encode("utf-8")).hexdigest()


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
    """Publish a version. ``penalties`` is legal's declaration of the late-payment terms,
    checked against the text (``rules.declared_penalty_problems``); without one (command
    line, demo) or when it says so (``from_text``), the rule and its article are read from
    the text, and contradictory articles are refused."""
    errors: dict[str, str] = {}
    label = label.strip()
    if not label or len(label) > 20:
        errors["label"] = "Le libellé est obligatoire (20 caractères au maximum)."
    elif not _LABEL.fullmatch(label):
        # the label is part of the version's public URL (/cgv/<label>.pdf) and file name
        errors["label"] = "Chiffres, lettres, point, tiret ou souligné uniquement (ex. 2.3)."
    elif session.scalar(select(CgvVersion).where(CgvVersion.label == label)) is not None:
        errors["label"] = f"La version {label} existe déjà : une version publiée ne change jamais."
    if not body_markdown.strip():
        errors["body_markdown"] = "Le texte des CGV est vide."
    elif problem := text_problem(body_markdown, multiline=True):
        errors["body_markdown"] = problem  # a NUL broke PostgreSQL, and was archived on SQLite
    if problem := text_problem(title):
        errors["title"] = problem
    if problem := control_character_problem(summary, multiline=True):
        errors["summary"] = problem
    if len(title.strip()) > 200:
        errors["title"] = "200 caractères au maximum."
    latest = session.scalar(select(CgvVersion).order_by(CgvVersion.effective_date.desc()))
    if latest is not None and effective_date < latest.effective_date:
        errors["effective_date"] = (
            f"La date d'entrée en vigueur précède celle de la version {latest.label} "
            f"({latest.effective_date.isoformat()})."
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
    version = CgvVersion(
        label=label,
        title=title.strip() or "Conditions générales de vente",
        effective_date=effective_date,
        body_markdown=body_markdown,
        sha256=text_sha256(body_markdown),
        summary=summary.strip(),
        kind=kind,
        published_at=now,
        published_by_id=published_by_id,
        late_interest_rule=penalties.rule,
        penalty_article=penalties.article[:200] if penalties.article else None,
        recovery_indemnity=penalties.indemnity,
    )
    session.add(version)
    session.flush()
    audit.record(
        session,
        now=now,
        actor=actor,
        action="cgv.published",
        subject_type="cgv_version",
        subject_id=version.id,
        details={"label": label, "sha256": version.sha256, "kind": kind.value},
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
            "Aucune version des CGV n'est en vigueur : un juriste doit en publier une."
        )
    return version


def get_version(session: Session, version_id: int) -> CgvVersion:
    version = session.get(CgvVersion, version_id)
    if version is None:
        raise CgvNotFound(f"Version de CGV n° {version_id} introuvable.")
    return version


def list_versions(session: Session) -> Sequence[CgvVersion]:
    return session.scalars(select(CgvVersion).order_by(CgvVersion.effective_date.desc())).all()


def record_acceptance(
    session: Session,
    *,
    client_id: int,
    version: CgvVersion,
    shown_sha256: str,
    person_name: str,
    person_email: str,
    method: AcceptanceMethod,
    now: datetime,
    ip: str | None,
    user_agent: str | None,
    contract_version_id: int | None = None,
    signature_request_id: int | None = None,
    actor: str,
) -> CgvAcceptance:
    if shown_sha256 != version.sha256:
        raise AcceptanceRefused(
            "Le texte présenté ne correspond pas à la version publiée (empreinte différente)."
        )
    acceptance = CgvAcceptance(
        client_id=client_id,
        cgv_version_id=version.id,
        cgv_version=version,
        person_name=person_name,
        person_email=person_email,
        text_sha256=shown_sha256,
        method=method,
        accepted_at=now,
        ip=ip,
        user_agent=(user_agent or "")[:500] or None,
        contract_version_id=contract_version_id,
        signature_request_id=signature_request_id,
    )
    session.add(acceptance)
    session.flush()
    audit.record(
        session,
        now=now,
        actor=actor,
        action="cgv.accepted",
        subject_type="cgv_acceptance",
        subject_id=acceptance.id,
        client_id=client_id,
        details={"version": version.label, "sha256": shown_sha256, "method": method.value},
    )
    return acceptance


def acceptances_of(session: Session, client_id: int) -> Sequence[CgvAcceptance]:
    return session.scalars(
        select(CgvAcceptance)
        .where(CgvAcceptance.client_id == client_id)
        .order_by(CgvAcceptance.accepted_at, CgvAcceptance.id)
    ).all()


def version_facts(session: Session) -> list[rules.VersionFacts]:
    return [
        rules.VersionFacts(id=v.id, label=v.label, kind=v.kind, effective_date=v.effective_date)
        for v in session.scalars(select(CgvVersion))
    ]


def client_facts(session: Session, client_ids: Iterable[int]) -> dict[int, rules.ClientFacts]:
    """Acceptances and sent notifications of these clients, as business dates (Paris)."""
    ids = list(client_ids)
    accepted: dict[int, dict[int, list[date]]] = {i: {} for i in ids}
    notified: dict[int, dict[int, date]] = {i: {} for i in ids}
    if ids:
        rows = session.execute(
            select(
                CgvAcceptance.client_id, CgvAcceptance.cgv_version_id, CgvAcceptance.accepted_at
            ).where(CgvAcceptance.client_id.in_(ids))
        )
        for client_id, version_id, at in rows:
            accepted[client_id].setdefault(version_id, []).append(business_date(at))
        rows = session.execute(
            select(
                CgvNotification.client_id, CgvNotification.cgv_version_id, CgvNotification.sent_at
            ).where(CgvNotification.client_id.in_(ids), CgvNotification.sent_at.is_not(None))
        )
        for client_id, version_id, at in rows:
            notified[client_id][version_id] = business_date(at)
    return {i: rules.ClientFacts(accepted_on=accepted[i], notified_on=notified[i]) for i in ids}


@dataclass(frozen=True)
class Opposable:
    client_id: int
    at: date
    version: CgvVersion | None
    reason: str


def opposable_for(session: Session, client_id: int, at: date) -> Opposable:
    """The CGV version that binds the client on `at` (see app.terms.rules)."""
    facts = client_facts(session, [client_id])[client_id]
    found, reason = rules.how_bound(version_facts(session), facts, at)
    version = session.get(CgvVersion, found.id) if found is not None else None
    return Opposable(client_id=client_id, at=at, version=version, reason=reason)


KIND_LABELS = {VersionKind.MINOR: "mineure", VersionKind.MATERIAL: "substantielle"}
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


def get_version_by_label(session: Session, label: str) -> CgvVersion:
    version = session.scalar(select(CgvVersion).where(CgvVersion.label == label))
    if version is None:
        raise CgvNotFound(f"Aucune version publiée des CGV ne porte le libellé « {label} ».")
    return version


def pdf_filename(version: CgvVersion) -> str:
    safe = "".join(c if c.isalnum() or c in ".-_" else "_" for c in version.label)
    return f"cgv-{safe}.pdf"


def archive_pdf(
    session: Session,
    store: BlobStore,
    version: CgvVersion,
    *,
    vendor_name: str,
    now: datetime,
    actor: str,
) -> Document:
    """The version's PDF/A, rendered once and archived (kind cgv, no client). A version
    published before PDFs existed (command line) gets it on first request; the rendering is
    deterministic (dates are the publication time), so it is the same document either way."""
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
    pdf = render_cgv_pdf(
        CgvDocument(
            vendor_name=vendor_name,
            label=version.label,
            title=version.title,
            effective_date=version.effective_date,
            kind_label=KIND_LABELS[version.kind],
            summary=version.summary,
            body_markdown=version.body_markdown,
            sha256=version.sha256,
            published_at=version.published_at,
        )
    )
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


@dataclass(frozen=True)
class Notice:
    """A notification row and the email that tells the client (sent after commit)."""

    notification_id: int
    mail: OutgoingMail


def notify_clients(
    session: Session,
    version: CgvVersion,
    *,
    base_url: str,
    link_days: int,
    now: datetime,
) -> list[Notice]:
    """One notification per active client (its signer's address), with the change summary
    and the text; for a material version, a personal click-through acceptance link."""
    notices: list[Notice] = []
    clients = session.scalars(
        select(Client).where(Client.status == ClientStatus.ACTIVE).order_by(Client.id)
    ).all()
    facts = version_facts(session)
    per_client = client_facts(session, [c.id for c in clients])
    today = business_date(now)
    for client in clients:
        token = new_link_token() if version.kind is VersionKind.MATERIAL else None
        binds = token is None and _minor_would_bind(facts, per_client[client.id], version, today)
        expires_at = now + timedelta(days=link_days)
        notification = CgvNotification(
            client_id=client.id,
            cgv_version_id=version.id,
            cgv_version=version,
            email=client.signer_email,
            created_at=now,
            link_token_hash=token_hash(token) if token else None,
            link_expires_at=expires_at if token else None,
        )
        session.add(notification)
        session.flush()
        mail = _notification_mail(client, version, token, base_url, expires_at, binds)
        notices.append(Notice(notification.id, mail))
    return notices


def _minor_would_bind(
    facts: list[rules.VersionFacts], client: rules.ClientFacts, version: CgvVersion, today: date
) -> bool:
    """Whether, once notified, this minor version will bind the client when in force (it will
    not if the client never accepted an earlier material version it builds on)."""
    notified = {**client.notified_on, version.id: today}
    at = max(today, version.effective_date)
    found = rules.opposable_version(
        facts, rules.ClientFacts(accepted_on=client.accepted_on, notified_on=notified), at
    )
    return found is not None and found.id == version.id


def _notification_mail(
    client: Client,
    version: CgvVersion,
    token: str | None,
    base_url: str,
    expires_at: datetime,
    binds: bool,
) -> OutgoingMail:
    effective = version.effective_date.strftime("%d/%m/%Y")
    lines = [
        f"Bonjour {client.signer_name},",
        "",
        f"Nous publions la version {version.label} de nos {version.title.lower()}, "
        f"en vigueur à compter du {effective} (modification {KIND_LABELS[version.kind]}).",
        "",
        "Résumé des modifications :",
        version.summary or "(aucun résumé)",
        "",
        f"Le texte intégral (PDF) : {base_url}/cgv/{version.label}.pdf",
        f"Empreinte SHA-256 du texte : {version.sha256}",
        "",
    ]
    if token is not None:
        lines += [
            "Cette version modifie des conditions substantielles : elle ne s'appliquera à "
            f"{client.legal_name} qu'après votre acceptation expresse. Pour la lire et "
            "l'accepter, ouvrez ce lien personnel :",
            f"{base_url}/cgv/accepter/{token}",
            f"Ce lien est valable jusqu'au {expires_at.astimezone(PARIS):%d/%m/%Y}.",
            "",
            "D'ici là, la dernière version que vous avez acceptée continue de s'appliquer.",
        ]
    elif binds:
        lines += [
            "Cette modification ne change pas vos obligations : elle vous sera opposable "
            f"à compter du {effective}, sans démarche de votre part.",
        ]
    else:
        lines += [
            f"{client.legal_name} n'a pas encore accepté une version antérieure dont celle-ci "
            "reprend les modifications : elle ne vous sera opposable qu'après votre "
            "acceptation (par exemple à la signature de votre prochain contrat).",
        ]
    lines += ["", "Texte de la version :", "", version.body_markdown, "", "-- ", "Paraphe", ""]
    return OutgoingMail(
        to=client.signer_email,
        subject=f"Nouvelle version {version.label} des conditions générales de vente",
        text="\n".join(lines),
    )


def mark_sent(session: Session, notification_id: int, now: datetime) -> None:
    """The email went out: from now on a minor version binds the client (once in force)."""
    notification = session.get(CgvNotification, notification_id)
    if notification is not None and notification.sent_at is None:
        notification.sent_at = now


def find_acceptance_link(
    session: Session, token: str, now: datetime, *, for_update: bool = False
) -> CgvNotification:
    stmt = select(CgvNotification).where(CgvNotification.link_token_hash == token_hash(token))
    if for_update:
        stmt = stmt.with_for_update(of=CgvNotification)
    notification = session.scalar(stmt)
    if notification is None:
        raise AcceptanceLinkUnknown(
            "Ce lien d'acceptation n'existe pas. Vérifiez l'adresse reçue par courriel."
        )
    if notification.link_used_at is not None:
        when = notification.link_used_at.astimezone(PARIS)
        raise AcceptanceLinkGone(
            f"Ce lien a déjà servi : la version {notification.cgv_version.label} a été "
            f"acceptée le {when:%d/%m/%Y à %H:%M}."
        )
    if notification.link_expires_at is None or notification.link_expires_at <= now:
        raise AcceptanceLinkGone(
            "Ce lien d'acceptation a expiré. Demandez un nouvel envoi à votre interlocuteur."
        )
    return notification


def accept_through_link(
    session: Session,
    token: str,
    *,
    version_id: int | None,
    shown_sha256: str,
    consent: bool,
    now: datetime,
    ip: str | None,
    user_agent: str | None,
) -> CgvAcceptance:
    """The click-through acceptance: the link, the version and the exact text shown must all
    match; the link then cannot serve again."""
    notification = find_acceptance_link(session, token, now, for_update=True)
    version = session.get(CgvVersion, version_id) if version_id is not None else None
    if version is None:
        raise CgvNotFound("Cette version des CGV n'est pas publiée : rien n'a été enregistré.")
    if version.id != notification.cgv_version_id:
        raise AcceptanceRefused(
            "Ce lien ne permet d'accepter que la version "
            f"{notification.cgv_version.label} : rien n'a été enregistré."
        )
    if not consent:
        raise ConsentMissing("Cochez la case pour accepter cette version des CGV.")
    client = session.get(Client, notification.client_id)
    assert client is not None  # foreign key
    acceptance = record_acceptance(
        session,
        client_id=client.id,
        version=version,
        shown_sha256=shown_sha256,
        person_name=client.signer_name,
        person_email=notification.email,
        method=AcceptanceMethod.CLICK_THROUGH,
        now=now,
        ip=ip,
        user_agent=user_agent,
        actor=f"client:{client.id}",
    )
    notification.link_used_at = now
    return acceptance


def acceptances_of_version(session: Session, version_id: int) -> Sequence[CgvAcceptance]:
    return session.scalars(
        select(CgvAcceptance)
        .where(CgvAcceptance.cgv_version_id == version_id)
        .order_by(CgvAcceptance.accepted_at, CgvAcceptance.id)
    ).all()


def notifications_of_version(session: Session, version_id: int) -> Sequence[CgvNotification]:
    return session.scalars(
        select(CgvNotification)
        .where(CgvNotification.cgv_version_id == version_id)
        .order_by(CgvNotification.id)
    ).all()


@dataclass(frozen=True)
class ReportRow:
    client: Client
    version: CgvVersion | None
    reason: str
    bound_by_latest_material: bool


@dataclass(frozen=True)
class OpposabilityReport:
    at: date
    rows: list[ReportRow]
    counts: list[tuple[str, int]]  # version label (or "aucune") → active clients bound by it
    latest_material: CgvVersion | None

    @property
    def not_bound(self) -> list[ReportRow]:
        return [r for r in self.rows if not r.bound_by_latest_material]

    @property
    def max_count(self) -> int:
        return max((n for _, n in self.counts), default=0)


NO_VERSION = "aucune"


def opposability_report(session: Session, at: date) -> OpposabilityReport:
    """For every active client, the version that binds it on `at`; counts per version; and
    whether it is bound by the latest material version in force."""
    facts = version_facts(session)
    by_id = {v.id: v for v in session.scalars(select(CgvVersion))}
    clients = session.scalars(
        select(Client).where(Client.status == ClientStatus.ACTIVE).order_by(Client.legal_name)
    ).all()
    per_client = client_facts(session, [c.id for c in clients])
    material = rules.latest_material(facts, at)
    rows: list[ReportRow] = []
    tally: dict[int | None, int] = {}
    for client in clients:
        found, reason = rules.how_bound(facts, per_client[client.id], at)
        bound = material is None or (found is not None and not rules.is_older(found, material))
        rows.append(ReportRow(client, by_id[found.id] if found else None, reason, bound))
        key = found.id if found else None
        tally[key] = tally.get(key, 0) + 1
    ordered = sorted(facts, key=lambda v: (v.effective_date, v.id), reverse=True)
    counts = [(v.label, tally[v.id]) for v in ordered if v.id in tally]
    if None in tally:
        counts.append((NO_VERSION, tally[None]))
    return OpposabilityReport(
        at=at,
        rows=rows,
        counts=counts,
        latest_material=by_id[material.id] if material else None,
    )


def is_client_behind(session: Session, client_id: int, version: CgvVersion, at: date) -> bool:
    """True when the version binding the client on `at` is older than `version` (e.g. the
    one pinned in a contract): signing it will make the client accept a newer text."""
    facts = version_facts(session)
    found = rules.opposable_version(facts, client_facts(session, [client_id])[client_id], at)
    target = next(v for v in facts if v.id == version.id)
    return rules.is_older(found, target)
