"""Every mail as the recipient sees it: the vendor's name in the subject, an HTML part in the
vendor's colours beside the plain text, and a Reply-To to the vendor's support address.

Applied by the transports (`app.mail.build_message`), so every kind of mail gets it, present
and future, and the outbox keeps only what the workflow wrote. The HTML part is made from the
plain-text body, through the one HTML layout (`templates/mails/_layout.html`): the two parts
cannot say different things, and there is one wording to maintain per mail. Autoescaped:
a client named `<b>…</b>` reads as typed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from app.mail import InlineImage, OutgoingMail
from app.vendor_settings import VendorIdentity

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "mails"
LOGO_PATH = "/identite/logo"
"""Where the application serves the vendor's logo (app.branding_views)."""
LOGO_CID = "logo@paraphe"
"""The Content-ID of the logo carried inside each mail (multipart/related)."""

_URL_LINE = re.compile(r"https?://\S+")
_SIGNATURE = "\n-- \n"  # RFC 3676: what follows is the signature block, the layout's footer


@dataclass(frozen=True)
class Block:
    lines: tuple[str, ...] = ()
    link: str | None = None
    label: str = "Ouvrir le lien"


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",)),
        undefined=StrictUndefined,
    )


@cache
def _png_logo(path: Path) -> InlineImage:
    """Read once per process: the file is checked at start and not changed while running."""
    return InlineImage(cid=LOGO_CID, media_type="image/png", data=path.read_bytes())


def blocks_of(text: str) -> list[Block]:
    """The body's paragraphs; a line that is a lone address becomes a button."""
    body = text.split(_SIGNATURE, 1)[0]
    blocks: list[Block] = []
    for paragraph in re.split(r"\n\s*\n", body.strip()):
        lines: list[str] = []
        for line in paragraph.splitlines():
            if _URL_LINE.fullmatch(line.strip()):
                if lines:
                    blocks.append(Block(lines=tuple(lines)))
                    lines = []
                blocks.append(Block(link=line.strip()))
            else:
                lines.append(line)
        if lines:
            blocks.append(Block(lines=tuple(lines)))
    return blocks


@dataclass(frozen=True)
class VendorMailLayout:
    """The vendor's letterhead for the mails of one instance (built from its settings)."""

    vendor: VendorIdentity
    base_url: str

    @property
    def inline_logo(self) -> InlineImage | None:
        """A PNG logo file travels inside the mail (multipart/related, ``cid:``): Gmail and
        Outlook block remote images until the reader allows them, and a signer who sees no
        logo in a mail asking for a signature has one more reason to take it for phishing.
        An SVG file is not sent at all: neither of them displays SVG, so the header is the
        vendor's name alone (a PNG logo is the setting to choose for mails)."""
        path = self.vendor.branding.logo_path
        if path is None or self.vendor.branding.logo_media_type != "image/png":
            return None
        return _png_logo(path)

    @property
    def logo_url(self) -> str | None:
        """The header's image: the inline PNG, the remote https:// logo as configured, or
        none (an SVG file: a text-only header)."""
        if self.vendor.branding.logo_url is not None:
            return self.vendor.branding.logo_url
        return f"cid:{LOGO_CID}" if self.inline_logo is not None else None

    @property
    def reply_to(self) -> str:
        return self.vendor.branding.support_email

    def subject(self, mail: OutgoingMail) -> str:
        """The subject naming the vendor first (who asks), unless it already does."""
        name = self.vendor.legal_name
        return mail.subject if name in mail.subject else f"{name} : {mail.subject}"

    def html(self, mail: OutgoingMail) -> str:
        return (
            _environment()
            .get_template("_layout.html")
            .render(
                subject=self.subject(mail),
                vendor=self.vendor.legal_name,
                colour=self.vendor.branding.colour,
                support=self.vendor.branding.support_email,
                logo_url=self.logo_url,
                blocks=blocks_of(mail.text),
            )
        )
