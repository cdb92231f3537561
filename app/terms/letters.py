"""The mail that tells a client of a new CGV version: the summary, the link to the archived
PDF and, for a material version, the personal acceptance link."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.clients.models import Client
from app.mail import OutgoingMail
from app.rendering.labels import label
from app.rendering.mail_text import render_mail
from app.terms.models import CgvVersion


@dataclass(frozen=True)
class Letter:
    """What a notification mail says to one client."""

    version: CgvVersion
    client: Client
    vendor_name: str
    base_url: str
    binds: bool  # a minor version that will bind the client once notified and in force
    accepted_before: bool  # the client accepted a version already: that one binds it meanwhile


def notification_mail(letter: Letter, token: str | None, expires_at: datetime) -> OutgoingMail:
    """The mail links to the archived PDF and gives the summary, never the whole text: a CGV
    runs to tens of kilobytes, and the PDF is the document the client is bound by. Written in
    `app/templates/mails/terms/notification.txt`."""
    version, client = letter.version, letter.client
    return render_mail(
        "terms/notification.txt",
        client.signer_email,
        vendor=letter.vendor_name,
        signer=client.signer_name,
        client=client.legal_name,
        label=version.label,
        title=version.title,
        effective=version.effective_date,
        kind=label(version.kind),
        summary=version.summary,
        pdf_url=f"{letter.base_url}/cgv/{version.label}.pdf",
        sha256=version.sha256,
        accept_url=None if token is None else f"{letter.base_url}/cgv/accepter/{token}",
        expires_at=expires_at,
        binds=letter.binds,
        accepted_before=letter.accepted_before,
    )
