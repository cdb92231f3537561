"""Outgoing email: the message, and its transports (an outbox folder on the embedded default,
SMTP in production).

The application never calls a transport itself: every mail goes through the outbox table and
the job queue (`app.mail.outbox`), whose delivery job hands it to the transport
(`Runtime.transport`) with no database transaction open.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit


class MailError(Exception):
    """A message could not be handed to the mail server (the text never holds credentials)."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    media_type: str  # "application/pdf"
    data: bytes


@dataclass(frozen=True)
class OutgoingMail:
    to: str
    subject: str
    text: str
    attachments: tuple[Attachment, ...] = ()
    # Set by the outbox (app.mail.outbox), the same for every attempt at one mail; None: a
    # new one is made for this sending.
    message_id: str | None = None


@dataclass(frozen=True)
class InlineImage:
    """An image the HTML part shows by ``cid:`` (the vendor's logo), carried in the message."""

    cid: str  # without angle brackets: "logo@paraphe"
    media_type: str  # "image/png"
    data: bytes


class Mailer(Protocol):
    def send(self, mail: OutgoingMail) -> None: ...


class MailLayout(Protocol):
    """How the transports dress each mail (app.rendering.mail_layout: the vendor's letterhead)."""

    @property
    def reply_to(self) -> str: ...

    def subject(self, mail: OutgoingMail) -> str: ...

    def html(self, mail: OutgoingMail) -> str: ...

    @property
    def inline_logo(self) -> InlineImage | None: ...


def new_message_id() -> str:
    return make_msgid(domain="paraphe.localhost")


def build_message(
    mail: OutgoingMail, sender: str, layout: MailLayout | None = None
) -> EmailMessage:
    """The message: plain text, and with a layout, its HTML alternative (multipart/alternative,
    the text first: RFC 2046 orders the parts from the plainest to the richest); the HTML
    part with the logo it shows by ``cid:`` forms a multipart/related (RFC 2387)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = layout.subject(mail) if layout else mail.subject
    if layout is not None:
        message["Reply-To"] = layout.reply_to
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = mail.message_id or new_message_id()
    message.set_content(mail.text, charset="utf-8")
    if layout is not None:
        message.add_alternative(layout.html(mail), subtype="html", charset="utf-8")
        logo = layout.inline_logo
        if logo is not None:
            html_part = message.get_body(preferencelist=("html",))
            assert html_part is not None  # added just above
            maintype, _, subtype = logo.media_type.partition("/")
            html_part.add_related(
                logo.data,
                maintype=maintype,
                subtype=subtype,
                cid=f"<{logo.cid}>",
                disposition="inline",
            )
    for attachment in mail.attachments:
        maintype, _, subtype = attachment.media_type.partition("/")
        message.add_attachment(
            attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    return message


class OutboxMailer:
    """Writes each message as an .eml file (atomically: temp file, fsync, rename)."""

    def __init__(self, directory: Path, sender: str, layout: MailLayout | None = None) -> None:
        self.directory = directory
        self.sender = sender
        self.layout = layout

    def send(self, mail: OutgoingMail) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        final = self.directory / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
        tmp = final.with_suffix(".tmp")
        data = build_message(mail, self.sender, self.layout).as_bytes()
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, final)


class SmtpMailer:
    """smtp://user:pass@host:port (plain), smtp+starttls://… or smtps://… (implicit TLS)."""

    def __init__(
        self, url: str, sender: str, timeout: float = 20.0, layout: MailLayout | None = None
    ) -> None:
        parts = urlsplit(url)
        self.scheme = parts.scheme
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if parts.scheme == "smtps" else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.sender = sender
        self.timeout = timeout
        self.layout = layout

    def send(self, mail: OutgoingMail) -> None:
        message = build_message(mail, self.sender, self.layout)
        try:
            if self.scheme == "smtps":
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host,
                    self.port,
                    timeout=self.timeout,
                    context=ssl.create_default_context(),
                )
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with client:
                if self.scheme == "smtp+starttls":
                    client.starttls(context=ssl.create_default_context())
                if self.username:
                    client.login(self.username, self.password or "")
                client.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            # The URL may hold a password: never echo it, only the host.
            raise MailError(f"Envoi SMTP vers {self.host}:{self.port} impossible : {exc}") from exc
