"""What the restitution sends: emails to the client's contact."""

from __future__ import annotations

import logging
from datetime import datetime

from app.clients.models import Client
from app.mail import Attachment, Mailer, MailError, OutgoingMail
from app.rendering.mail_text import render_mail

logger = logging.getLogger(__name__)


def invitation_mail(client: Client, url: str, expires_at: datetime) -> OutgoingMail:
    return _expiring_link_mail("archive/invitation.txt", client, url, expires_at)


def download_mail(client: Client, url: str, expires_at: datetime) -> OutgoingMail:
    return _expiring_link_mail("archive/download.txt", client, url, expires_at)


def _expiring_link_mail(
    template: str, client: Client, url: str, expires_at: datetime
) -> OutgoingMail:
    """An expiring link sent to the client's contact: both mails say the same things."""
    return render_mail(
        template,
        client.signer_email,
        client=client.legal_name,
        url=url,
        expires_at=expires_at,
    )


def deletion_certificate_mail(
    to: str, client_name: str, vendor: str, certificate: Attachment
) -> OutgoingMail:
    """The purge's certificate, attached, to the contact of the client whose data went."""
    return render_mail(
        "archive/deletion_certificate.txt",
        to,
        attachments=(certificate,),
        client=client_name,
        vendor=vendor,
    )


def send_mail(mailer: Mailer, mail: OutgoingMail) -> bool:
    """Send after commit; a mail failure does not undo the archive (the link is returned to
    the archivist, who can pass it on), so it is logged and reported, not raised."""
    try:
        mailer.send(mail)
    except MailError:
        logger.exception("Courriel de restitution non envoyé à %s", mail.to)
        return False
    return True
