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

from app.config import VendorIdentity
from app.mail import OutgoingMail

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "mails"
LOGO_PATH = "/identite/logo"
"""Where the application serves the vendor's logo (app.branding_views)."""

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
    def logo_url(self) -> str:
        return self.vendor.branding.logo_url or self.base_url.rstrip("/") + LOGO_PATH

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
