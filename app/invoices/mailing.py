"""Issued invoices and credit notes mailed to the client's billing contacts, the Factur-X PDF
attached, in the transaction that attaches the PDF: the mails exist if and only if the PDF
does, and that step runs once per document (``pdfs.attach_pdf`` re-checks under a row lock).
Each mail is also named (document, contact) in the outbox, so no replay sends one twice, and
its Message-ID is journaled: the proof of sending a dispute asks for."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from sqlalchemy.orm import Session

from app.clients.billing_contacts import active_contacts
from app.clients.models import BillingContact, Client
from app.invoices.journal import journal
from app.invoices.models import CreditNote, Invoice, IssuedDocument
from app.mail import Attachment, OutgoingMail
from app.mail.models import MailStatus, OutgoingMailRecord
from app.mail.outbox import enqueue_mail, mails_keyed, message_id_of
from app.rendering.mail_text import render_mail

SPACE_PATH = "/espace-client"


@dataclass(frozen=True)
class MailingContext:
    """What the mails say besides the document: who sends them, where the space is."""

    vendor_name: str
    base_url: str

    @property
    def space_url(self) -> str:
        return self.base_url.rstrip("/") + SPACE_PATH


def key_prefix(issued: IssuedDocument) -> str:
    kind = "invoice" if isinstance(issued, Invoice) else "credit_note"
    return f"issued-mail:{kind}:{issued.id}:"


def issued_mail(
    issued: IssuedDocument, contact: BillingContact, pdf: bytes, context: MailingContext
) -> OutgoingMail:
    """The mail of `issued` to one contact, from ``invoices/invoice.txt`` or
    ``invoices/credit_note.txt``."""
    common: dict[str, object] = {
        "vendor": context.vendor_name,
        "contact": contact.name,
        "number": issued.number,
        "issued_on": issued.issued_on,
        "amount": issued.total_incl_vat,
        "space_url": context.space_url,
    }
    attachments = (Attachment(f"{issued.number}.pdf", "application/pdf", pdf),)
    if isinstance(issued, Invoice):
        mail = render_mail(
            "invoices/invoice.txt",
            contact.email,
            attachments=attachments,
            due_on=issued.due_on,
            payment_method=issued.payment_method,
            **common,
        )
    else:
        assert isinstance(issued, CreditNote)
        mail = render_mail(
            "invoices/credit_note.txt",
            contact.email,
            attachments=attachments,
            invoice_number=issued.invoice.number,
            **common,
        )
    return replace(mail, subject=_plain_spaces(mail.subject))


def _plain_spaces(subject: str) -> str:
    """The subject with ordinary spaces: Python's header folding may cut between two encoded
    words at a no-break space of an amount ("1 200,00 €"), and readers then drop the space
    before it ("de1 200,00 €"). The body keeps the typographic spaces."""
    return subject.replace("\u202f", " ").replace("\xa0", " ")


def mail_issued(
    session: Session,
    issued: IssuedDocument,
    pdf: bytes,
    context: MailingContext,
    *,
    now: datetime,
    actor: str,
) -> int:
    """Enqueue one mail per active billing contact (none when the client receives its
    invoices another way); the number enqueued."""
    client = session.get(Client, issued.client_id)
    if client is None or not client.send_invoices_by_email:
        return 0
    enqueued = 0
    for contact in active_contacts(session, issued.client_id):
        mail_id = enqueue_mail(
            session,
            issued_mail(issued, contact, pdf, context),
            now=now,
            key=f"{key_prefix(issued)}{contact.id}",
        )
        journal(
            session,
            issued,
            "mailed",
            now=now,
            actor=actor,
            details={
                "number": issued.number,
                "to": contact.email,
                "billing_contact_id": contact.id,
                "message_id": message_id_of(session, mail_id),
            },
        )
        enqueued += 1
    return enqueued


def deliveries(session: Session, issued: IssuedDocument) -> Sequence[OutgoingMailRecord]:
    """The mails of the document, each with its state (the invoice page lists them)."""
    return mails_keyed(session, key_prefix(issued))


def failed_deliveries(session: Session, issued: IssuedDocument) -> list[OutgoingMailRecord]:
    return [row for row in deliveries(session, issued) if row.status is MailStatus.FAILED]


POLL_SENDING_SECONDS = 2
POLL_RETRYING_SECONDS = 15  # a mail refused once waits for its job's retry (backoff)


class MailStage(StrEnum):
    """Where the mailing of an issued document stands, as its page says it."""

    SENDING = "sending"  # the PDF is being archived, or a mail waits for its job or is in it
    SENT = "sent"  # every mail accepted by the mail server
    FAILED = "failed"  # a mail failed after every attempt, none left waiting
    NONE = "none"  # the PDF is archived and the client had no active contact then
    OFF = "off"  # the client receives its invoices another way


@dataclass(frozen=True)
class MailProgress:
    """The document's mails and their stage; ``poll_after``: the seconds after which its page
    asks again, None once nothing can change by itself."""

    stage: MailStage
    deliveries: Sequence[OutgoingMailRecord]
    poll_after: int | None = None


def mail_progress(session: Session, issued: IssuedDocument) -> MailProgress:
    """The mails of the document and where they stand: what its page shows, and what the page
    polls while the mails are being sent in the background."""
    rows = deliveries(session, issued)
    waiting = [r for r in rows if r.status in (MailStatus.PENDING, MailStatus.SENDING)]
    if waiting:
        retrying = any(r.attempts > 0 for r in waiting)
        poll = POLL_RETRYING_SECONDS if retrying else POLL_SENDING_SECONDS
        return MailProgress(MailStage.SENDING, rows, poll)
    if rows:
        failed = any(r.status is MailStatus.FAILED for r in rows)
        return MailProgress(MailStage.FAILED if failed else MailStage.SENT, rows)
    client = session.get(Client, issued.client_id)
    if client is None or not client.send_invoices_by_email:
        return MailProgress(MailStage.OFF, rows)
    if issued.document_id is None:  # mailed, with the PDF, as soon as it is archived
        return MailProgress(MailStage.SENDING, rows, POLL_SENDING_SECONDS)
    return MailProgress(MailStage.NONE, rows)
