"""Every mail as the recipient sees it: the vendor's name in the subject, an HTML part in the
vendor's colours beside the plain text, and a Reply-To to the vendor's support address.

Applied by the transports (`app.mail.build_message`), so every kind of mail gets it, present
and future, and the outbox keeps only what the workflow wrote. The HTML part is made from the
plain-text body, through the one HTML layout (`templates/mails/_layout.html`): the two parts
cannot say different things, and there is one wording to maintain per mail. Autoescaped:
a client named `<b>…</b>` reads as typed.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from app.branding import LogoUnavailable, fetch_remote_logo
from app.mail import InlineImage, OutgoingMail
from app.rendering.french import de
from app.vendor_settings import VendorIdentity

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "mails"
LOGO_PATH = "/identite/logo"
"""Where the application serves the vendor's logo (app.branding_views)."""
LOGO_CID = "logo@paraphe"
"""The Content-ID of the logo carried inside each mail (multipart/related)."""

logger = logging.getLogger(__name__)

REMOTE_LOGO_RETRY_S = 600.0
"""After a failed fetch, the mails go with the vendor's name alone for this long, then the
next mail tries again (a logo host that was down for a moment does not cost the logo until
the next restart, nor a network call per mail)."""

_URL_LINE = re.compile(r"https?://\S+")
_SIGNATURE = "\n-- \n"  # RFC 3676: what follows is the signature block, the layout's footer


@dataclass(frozen=True)
class Block:
    lines: tuple[str, ...] = ()
    link: str | None = None
    label: str = "Ouvrir le lien"


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",)),
        undefined=StrictUndefined,
    )
    env.filters["de"] = de
    return env


@cache
def _png_logo(path: Path) -> InlineImage:
    """Read once per process: the file is checked at start and not changed while running."""
    return InlineImage(cid=LOGO_CID, media_type="image/png", data=path.read_bytes())


_remote_lock = threading.Lock()
_remote_logos: dict[str, InlineImage] = {}
# address -> (time.monotonic() of its last failure, why, in French)
_remote_failures: dict[str, tuple[float, str]] = {}


def _remote_png_logo(url: str) -> InlineImage | None:
    """The remote logo fetched once per process (first mail), carried like a local PNG; None
    (a text-only header, never a link to the remote image) while it cannot be fetched. The
    lock makes the transports' threads wait for one fetch rather than each start their own."""
    with _remote_lock:
        if url in _remote_logos:
            return _remote_logos[url]
        failed = _remote_failures.get(url)
        if failed is not None and time.monotonic() - failed[0] < REMOTE_LOGO_RETRY_S:
            return None
        try:
            data = fetch_remote_logo(url)
        except LogoUnavailable as exc:
            logger.warning(
                "Logo distant %s non repris dans les courriels (nom de l'éditeur seul) : %s",
                url,
                exc,
            )
            _remote_failures[url] = (time.monotonic(), str(exc))
            return None
        image = InlineImage(cid=LOGO_CID, media_type="image/png", data=data)
        _remote_logos[url] = image
        _remote_failures.pop(url, None)
        return image


def remote_logo_problem(url: str) -> str | None:
    """Why the remote logo at `url` is not in the mails (French), or None when it is: for the
    page that shows the vendor's identity to its administrators (fetched there if this
    process has not tried yet)."""
    if _remote_png_logo(url) is not None:
        return None
    with _remote_lock:
        failed = _remote_failures.get(url)
    return failed[1] if failed is not None else None


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
        """A PNG logo travels inside the mail (multipart/related, ``cid:``): Gmail and
        Outlook block remote images until the reader allows them, and a signer who sees no
        logo in a mail asking for a signature has one more reason to take it for phishing.
        A logo configured as an https:// address is fetched once and carried the same way
        (linked, it would also tell its host who opened the mail, and when). An SVG file is
        not sent at all: neither of them displays SVG, so the header is the vendor's name
        alone (a PNG logo is the setting to choose for mails)."""
        branding = self.vendor.branding
        if branding.logo_url is not None:
            return _remote_png_logo(branding.logo_url)
        if branding.logo_path is None or branding.logo_media_type != "image/png":
            return None
        return _png_logo(branding.logo_path)

    @property
    def logo_url(self) -> str | None:
        """The header's image: the logo carried inside the mail, or none (a text-only
        header). Never a remote address."""
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
