"""The outbox and SMTP mailers pass the same contract: what is sent is what is received."""

from __future__ import annotations

import email
import email.header
import email.utils
from collections.abc import Callable, Sequence
from email.message import Message
from pathlib import Path

import pytest

from app.config import Settings
from app.mail import (
    Attachment,
    Mailer,
    MailError,
    OutboxMailer,
    OutgoingMail,
    SmtpMailer,
    build_message,
)
from app.rendering.mail_layout import VendorMailLayout
from tests.integration.smtp_server import Inbox
from tests.loopback import free_port

# A mailer and what its recipient then finds in the inbox.
MailerAndInbox = tuple[Mailer, Callable[[], Sequence[Message]]]


def _parts(message: Message) -> list[Message]:
    """The parts of a multipart message (a single part's payload would be its text)."""
    payload = message.get_payload()
    assert isinstance(payload, list), message.get_content_type()
    parts = []
    for part in payload:
        assert isinstance(part, Message), part
        parts.append(part)
    return parts


def _decoded(part: Message) -> bytes:
    """A single part's content, its transfer encoding undone."""
    data = part.get_payload(decode=True)
    assert isinstance(data, bytes), part.get_content_type()
    return data


@pytest.fixture(params=["outbox", "smtp"])
def mailer_and_inbox(request: pytest.FixtureRequest, tmp_path: Path) -> MailerAndInbox:
    if request.param == "outbox":
        mailer: Mailer = OutboxMailer(tmp_path / "outbox", "Paraphe <no-reply@example.test>")

        def received() -> list[Message]:
            return [
                email.message_from_bytes(p.read_bytes())
                for p in sorted((tmp_path / "outbox").glob("*.eml"))
            ]

        return mailer, received
    port: int = request.getfixturevalue("smtp_port")
    inbox: Inbox = request.getfixturevalue("inbox")
    return SmtpMailer(
        f"smtp://127.0.0.1:{port}", "Paraphe <no-reply@example.test>"
    ), lambda: inbox.messages


def test_mailer_contract(mailer_and_inbox: MailerAndInbox) -> None:
    mailer, received = mailer_and_inbox
    mailer.send(
        OutgoingMail(
            to="Élodie Martin-Ngô <elodie@example.fr>",
            subject="Contrat « CTR-2026-0001 » à signer",
            text="Bonjour Élodie,\nvoici le lien : https://x.test/signature/abc\n",
        )
    )
    messages = received()
    assert len(messages) == 1
    message = messages[0]
    assert email.utils.parseaddr(
        str(email.header.make_header(email.header.decode_header(message["To"])))
    ) == ("Élodie Martin-Ngô", "elodie@example.fr")
    assert (
        str(email.header.make_header(email.header.decode_header(message["Subject"])))
        == "Contrat « CTR-2026-0001 » à signer"
    )
    charset = message.get_content_charset()
    assert charset is not None, "the text part names its charset"
    body = _decoded(message).decode(charset)
    assert "Bonjour Élodie" in body and "https://x.test/signature/abc" in body
    assert message["Message-ID"]


def test_outbox_writes_whole_files_only(tmp_path: Path) -> None:
    mailer = OutboxMailer(tmp_path, "a@example.test")
    for index in range(5):
        mailer.send(OutgoingMail(to="b@example.test", subject=f"n°{index}", text="x"))
    assert len(list(tmp_path.glob("*.eml"))) == 5
    assert not list(tmp_path.glob("*.tmp"))


def test_smtp_failure_is_reported_without_credentials() -> None:
    port = free_port()
    mailer = SmtpMailer(f"smtp://user:s3cr3t@127.0.0.1:{port}", "a@example.test", timeout=2)
    with pytest.raises(MailError) as info:
        mailer.send(OutgoingMail(to="b@example.test", subject="x", text="x"))
    assert f"127.0.0.1:{port}" in str(info.value)
    assert "s3cr3t" not in str(info.value)


def test_smtp_sends_the_vendors_html_alternative(
    smtp_port: int, inbox: Inbox, tmp_path: Path
) -> None:
    """Over SMTP too, each mail carries its plain text and its HTML part, Reply-To support."""
    settings = Settings.from_env({"PARAPHE_INSTANCE_DIR": str(tmp_path)})
    layout = VendorMailLayout(settings.vendor, "https://paraphe.example")
    mailer = SmtpMailer(
        f"smtp://127.0.0.1:{smtp_port}", "Paraphe <no-reply@example.test>", layout=layout
    )
    mailer.send(OutgoingMail(to="a@example.fr", subject="Contrat C-1 à signer", text="Bonjour"))
    [message] = inbox.messages
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in _parts(message)] == ["text/plain", "text/html"]
    assert message["Reply-To"] == "support@editeur-demo.fr"


def _png(path: Path) -> bytes:
    from PIL import Image

    Image.new("RGB", (32, 32), (31, 78, 140)).save(path, format="PNG")
    return path.read_bytes()


def test_a_png_logo_travels_inside_the_mail_over_smtp(tmp_path: Path) -> None:
    """Gmail and Outlook block remote images: a PNG logo is carried in the message, the HTML
    part and the image forming a multipart/related, shown by cid:; delivered through the real
    SMTP server on loopback and read back as the recipient's client reads it."""
    from tests.integration.smtp_server import smtp_server as loopback_smtp

    logo = _png(tmp_path / "logo.png")
    settings = Settings.from_env(
        {"PARAPHE_INSTANCE_DIR": str(tmp_path), "PARAPHE_VENDOR_LOGO": str(tmp_path / "logo.png")}
    )
    layout = VendorMailLayout(settings.vendor, "https://paraphe.example")
    port = free_port()
    mail = OutgoingMail(
        to="a@example.fr",
        subject="Contrat C-1 à signer",
        text="Bonjour",
        attachments=(Attachment("contrat.pdf", "application/pdf", b"%PDF-1.7 test"),),
    )
    with loopback_smtp(port, Inbox()) as inbox:
        SmtpMailer(f"smtp://127.0.0.1:{port}", "no-reply@example.test", layout=layout).send(mail)
    [message] = inbox.messages

    def tree(part: Message) -> object:
        if part.is_multipart():
            return (part.get_content_type(), [tree(p) for p in _parts(part)])
        return part.get_content_type()

    assert tree(message) == (
        "multipart/mixed",
        [
            (
                "multipart/alternative",
                ["text/plain", ("multipart/related", ["text/html", "image/png"])],
            ),
            "application/pdf",
        ],
    )
    related = _parts(_parts(message)[0])[1]
    html_part, image = _parts(related)
    assert image["Content-ID"] == "<logo@paraphe>"
    assert image.get_content_disposition() == "inline"
    assert _decoded(image) == logo
    html = _decoded(html_part).decode()
    assert 'src="cid:logo@paraphe"' in html and "/identite/logo" not in html


def test_an_svg_logo_gives_a_text_header_and_no_remote_image(tmp_path: Path) -> None:
    """Mail clients do not display SVG: the header is the vendor's name alone, no image."""
    settings = Settings.from_env({"PARAPHE_INSTANCE_DIR": str(tmp_path)})  # the demo SVG
    assert settings.vendor.branding.logo_media_type == "image/svg+xml"
    layout = VendorMailLayout(settings.vendor, "https://paraphe.example")
    message = build_message(
        OutgoingMail(to="a@example.fr", subject="S", text="x"), "p@e.fr", layout
    )
    assert [p.get_content_type() for p in _parts(message)] == ["text/plain", "text/html"]
    html = _decoded(_parts(message)[1]).decode()
    assert "<img" not in html and settings.vendor.legal_name in html
