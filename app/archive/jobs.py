"""`jobs purge`: the retention purge, one document or one client per transaction.

Steps, each resumable: (0) the outbox's rows of mails sent longer ago than the retention
setting (`RetentionPolicy.sent_mail_days`), deleted and journaled, and the CGV previews never
published older than `RetentionPolicy.cgv_preview_days`, likewise; (1) every due document:
blob deleted, row marked purged, journaled; (2) every client with purged documents not yet
certified, or whose contact data is due for anonymisation: a deletion certificate PDF rendered
(outside any transaction), archived, the documents linked to it; (3) every certificate not yet
sent: emailed to the client's contact after commit, then the sending journaled and the contact
anonymised if due. A crash between (3)'s email and its journal entry means the email goes
again on the rerun (at least once).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.archive import certification, purge
from app.archive.anonymisation import anonymisation_due
from app.archive.certificate import CertificateView, line, render_certificate
from app.archive.mails import deletion_certificate_mail
from app.archive.services import retention
from app.audit import services as audit
from app.backup_keys import services as backup_keys
from app.clients.models import Client
from app.db import transaction
from app.documents.errors import DocumentIntegrityFailed
from app.documents.models import Document
from app.documents.services import read_content
from app.mail import Attachment
from app.mail.outbox import purge_sent_mails
from app.retention_settings import RetentionPolicy
from app.runtime import Runtime
from app.terms import previews

ACTOR = "job:purge"


@dataclass
class PurgeReport:
    dry_run: bool
    due: list[tuple[int, str, str, str]] = field(default_factory=list)  # id, kind, ref, sha
    deleted: list[purge.PurgedItem] = field(default_factory=list)
    deferred: list[purge.DeferredItem] = field(default_factory=list)
    """Due documents kept because the store still locks their bytes (listed as kept, with the
    lock, on the certificate)."""
    to_anonymise: list[int] = field(default_factory=list)
    certificates: list[tuple[int, str]] = field(default_factory=list)  # document id, reference
    emailed: list[str] = field(default_factory=list)
    mails_deleted: int = 0
    """Rows of mails sent more than `RetentionPolicy.sent_mail_days` ago (counted in a dry run)."""
    previews_deleted: int = 0
    """CGV previews never published, older than `RetentionPolicy.cgv_preview_days` (counted in
    a dry run)."""
    damaged: list[str] = field(default_factory=list)
    """One French line per certificate not sent because its blob failed the integrity check
    (journaled; it is sent by the first run after the blob is restored)."""


def run_purge(rt: Runtime, *, today: date, now: datetime, dry_run: bool) -> PurgeReport:
    report = PurgeReport(dry_run=dry_run)
    policy = rt.settings.retention
    with transaction(rt.session_factory) as session:
        due = purge.due_documents(session, today)
        report.due = [(d.id, d.kind.value, f"{d.reference} v{d.version}", d.sha256) for d in due]
        report.to_anonymise = [
            c.id
            for c in session.scalars(select(Client).where(Client.anonymised_at.is_(None)))
            if anonymisation_due(c, policy, today)
        ]
    report.mails_deleted = _purge_rows(rt, SENT_MAILS, now=now, dry_run=dry_run)
    report.previews_deleted = _purge_rows(rt, UNPUBLISHED_PREVIEWS, now=now, dry_run=dry_run)
    if dry_run:
        return report

    for document_id, *_ in report.due:
        with transaction(rt.session_factory) as session:
            item = purge.purge_document(
                session, rt.store, document_id, today=today, now=now, actor=ACTOR
            )
        if isinstance(item, purge.DeferredItem):
            report.deferred.append(item)
        elif item is not None:
            report.deleted.append(item)
    locked = {item.document_id: item.reason for item in report.deferred}
    with transaction(rt.session_factory) as session:
        # The invoices of a year whose legal retention is over are all purged: their backup
        # key goes too, so no backup restores them either.
        for year in backup_keys.spent_legal_years(session, today):
            _shred_backup_key(
                session,
                rt,
                backup_keys.legal_key(year),
                client_id=None,
                now=now,
                reason=f"fin de la conservation légale des pièces comptables de {year}",
            )

    with transaction(rt.session_factory) as session:
        clients = certification.clients_to_certify(session, policy, today)
    for client_id in clients:
        certificate = _certify(rt, client_id, today=today, now=now, locked=locked)
        if certificate is not None:
            report.certificates.append(certificate)

    with transaction(rt.session_factory) as session:
        unsent = [c.id for c in certification.unsent_certificates(session)]
    for certificate_id in unsent:
        try:
            report.emailed.append(_send(rt, certificate_id, today=today, now=now))
        except DocumentIntegrityFailed as exc:
            report.damaged.append(exc.detail)
    return report


class _RowPurge(Protocol):
    def __call__(self, session: Session, *, before: datetime, dry_run: bool = False) -> int: ...


@dataclass(frozen=True)
class _OldRows:
    """Rows deleted once older than a retention setting, and how the journal names them."""

    purge_rows: _RowPurge
    days: Callable[[RetentionPolicy], int]
    action: str
    table: str
    which: str
    before_key: str


SENT_MAILS = _OldRows(
    purge_sent_mails,
    lambda policy: policy.sent_mail_days,
    action="mail.purged",
    table="outgoing_mails",
    which="sent",
    before_key="sent_before",
)
"""Step (0): the outbox's rows of mails sent before the retention window."""

UNPUBLISHED_PREVIEWS = _OldRows(
    previews.purge_unpublished,
    lambda policy: policy.cgv_preview_days,
    action="cgv_preview.purged",
    table="cgv_previews",
    which="unpublished",
    before_key="created_before",
)
"""Step (0), continued: the CGV previews never published, older than the setting."""


def _purge_rows(rt: Runtime, rows: _OldRows, *, now: datetime, dry_run: bool) -> int:
    """The old rows deleted (or counted), in one transaction with the journal entry that says
    how many went and up to when."""
    before = now - timedelta(days=rows.days(rt.settings.retention))
    with transaction(rt.session_factory) as session:
        deleted = rows.purge_rows(session, before=before, dry_run=dry_run)
        if deleted and not dry_run:
            audit.record(
                session,
                now=now,
                actor=ACTOR,
                action=rows.action,
                subject_type=rows.table,
                subject_id=rows.which,
                details={"rows": deleted, rows.before_key: before.isoformat()},
            )
    return deleted


def _certify(
    rt: Runtime, client_id: int, *, today: date, now: datetime, locked: dict[int, str]
) -> tuple[int, str] | None:
    policy = rt.settings.retention
    with transaction(rt.session_factory) as session:
        client = session.get(Client, client_id)
        if client is None:
            return None
        purged = certification.uncertified(session, client_id)
        anonymise = anonymisation_due(client, policy, today)
        if not purged and not anonymise:
            return None
        certified = [d.id for d in purged]
        kept = retention.documents_of_client(session, client_id)
        view = CertificateView(
            reference="",
            issued_at=now,
            vendor_name=rt.settings.vendor.legal_name,
            vendor_siren=rt.settings.vendor.siren,
            client_name=client.legal_name,
            client_siren=client.siren,
            terminated_on=client.terminated_on,
            deleted=[line(d) for d in purged],
            kept=[line(d, locked.get(d.id)) for d in kept],
            anonymised=anonymise,
            # The last of the client's documents its backup key protects is gone: the key goes
            # too, so no backup can restore or reconstruct them (crypto-shredding).
            backups_erased=backup_keys.client_key_spent(session, client_id),
        )
        number = certification.next_certificate_reference(session, client_id)
    # Rendering takes a second: done outside any transaction, then checked against the rows.
    view = CertificateView(**{**view.__dict__, "reference": number})
    pdf = render_certificate(view)
    with transaction(rt.session_factory) as session:
        client = session.get(Client, client_id)
        if (
            client is None
            or [d.id for d in certification.uncertified(session, client_id)] != certified
        ):
            return None  # another run certified them meanwhile; the next run starts afresh
        certificate = certification.issue_certificate(
            session,
            rt.store,
            client,
            certified=certified,
            reference=number,
            pdf=pdf,
            policy=policy,
            now=now,
            actor=ACTOR,
        )
        if view.backups_erased:
            _shred_backup_key(
                session,
                rt,
                backup_keys.client_key(client_id),
                client_id=client_id,
                now=now,
                reason=f"purge du client, certificat de suppression {number}",
            )
        return certificate.id, certificate.reference


def _send(rt: Runtime, certificate_id: int, *, today: date, now: datetime) -> str:
    """Mail one certificate, read through the archive's integrity check: a damaged or missing
    blob is journaled (committed) and raised as `DocumentIntegrityFailed`; nothing is sent or
    recorded as sent, and the contact is not anonymised (its address is still needed)."""
    with transaction(rt.session_factory) as session:
        certificate = session.get(Document, certificate_id)
        assert certificate is not None
        client = session.get(Client, certificate.client_id) if certificate.client_id else None
        try:
            pdf = read_content(
                session, rt.store, certificate, actor=ACTOR, now=now, journal_read=False
            )
        except DocumentIntegrityFailed as exc:
            failure: DocumentIntegrityFailed | None = exc  # raised once this has committed
        else:
            failure = None
        recipient = client.signer_email if client is not None else ""
        name = client.legal_name if client is not None else ""
        filename = certificate.filename
    if failure is not None:
        raise failure
    emailed = bool(recipient) and client is not None and client.anonymised_at is None
    if emailed:
        rt.mailer.send(
            deletion_certificate_mail(
                recipient,
                name,
                rt.settings.vendor.legal_name,
                Attachment(filename, "application/pdf", pdf),
            )
        )
    with transaction(rt.session_factory) as session:
        certificate = session.get(Document, certificate_id)
        assert certificate is not None
        certification.record_sent(
            session, certificate, policy=rt.settings.retention, today=today, now=now, actor=ACTOR
        )
        if not emailed:
            # The contact was anonymised by an earlier wave: the certificate stays archived.
            audit.record(
                session,
                now=now,
                actor=ACTOR,
                action="deletion_certificate.no_recipient",
                subject_type="document",
                subject_id=certificate_id,
            )
    return filename if emailed else ""


def _shred_backup_key(
    session: Session, rt: Runtime, key_id: str, *, client_id: int | None, now: datetime, reason: str
) -> None:
    """Destroy a backup key in the instance's keyring, as the purge (crypto-shredding: no
    backup can restore what the key protected). Already destroyed: nothing changes."""
    backup_keys.destroy_key(
        session,
        backup_keys.keyring_file(rt.settings),
        key_id,
        client_id=client_id,
        now=now,
        reason=reason,
        actor=ACTOR,
    )
