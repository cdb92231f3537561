"""The vendor's visual identity, as signers and clients see it: logo, accent colour, support
address (read from `PARAPHE_VENDOR_LOGO`, `_COLOR`, `_SUPPORT_EMAIL`, checked at start).

A signer who receives a signing link from an unknown sender treats it as phishing unless the
mail and the page say, recognisably, who asks: the vendor's name and logo, its colour, and an
address to write to. The colour is checked against white text (WCAG 2.1 AA, 4.5:1), since
buttons print white on it: a pale brand colour would make every button unreadable.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from http.client import HTTPConnection, HTTPException, HTTPSConnection
from pathlib import Path
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email

DEFAULT_LOGO = Path(__file__).resolve().parent / "static" / "vendor-logo.svg"
"""The demo vendor's logo, shipped with the application."""

LOGO_TYPES = {".png": "image/png", ".svg": "image/svg+xml"}
MIN_CONTRAST = 4.5  # WCAG 2.1 AA, normal text
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


@dataclass(frozen=True)
class Branding:
    logo_path: Path | None = DEFAULT_LOGO  # a PNG or SVG file the application serves
    logo_url: str | None = None  # or an https:// image: linked by pages, carried by mails
    colour: str = "#1f4e8c"
    support_email: str = "support@editeur-demo.fr"

    @property
    def logo_media_type(self) -> str:
        assert self.logo_path is not None
        return LOGO_TYPES[self.logo_path.suffix.lower()]

    @property
    def logo_origin(self) -> str | None:
        """The remote logo's origin, which the pages' Content-Security-Policy must allow."""
        if self.logo_url is None:
            return None
        parts = urlsplit(self.logo_url)
        return f"{parts.scheme}://{parts.netloc}"


def _luminance(colour: str) -> float:
    """Relative luminance of #rrggbb (WCAG 2.1 definition)."""

    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(colour[i : i + 2]) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_with_white(colour: str) -> float:
    return 1.05 / (_luminance(colour) + 0.05)


def branding_from_env(env: Mapping[str, str], problems: list[str]) -> Branding:
    """The branding described by the environment; each unusable value adds a problem."""
    default = Branding()
    logo_raw = (env.get("PARAPHE_VENDOR_LOGO") or "").strip()
    logo_path: Path | None = default.logo_path
    logo_url: str | None = None
    if logo_raw.startswith(("https://", "http://")):
        parts = urlsplit(logo_raw)
        if parts.scheme != "https" or not parts.hostname:
            problems.append(
                "PARAPHE_VENDOR_LOGO : une adresse https:// (les pages servies en https "
                "refuseraient une image en http)"
            )
        else:
            logo_path, logo_url = None, logo_raw
    elif logo_raw:
        path = Path(logo_raw)
        if path.suffix.lower() not in LOGO_TYPES or not path.is_file():
            problems.append(
                f"PARAPHE_VENDOR_LOGO : fichier PNG ou SVG introuvable ({logo_raw}), ou une "
                "adresse https:// d'image"
            )
        else:
            logo_path = path.resolve()

    colour = (env.get("PARAPHE_VENDOR_COLOR") or default.colour).strip()
    if not _COLOUR.fullmatch(colour):
        problems.append("PARAPHE_VENDOR_COLOR : une couleur #rrvvbb, ex. #1f4e8c")
        colour = default.colour
    elif contrast_with_white(colour) < MIN_CONTRAST:
        problems.append(
            f"PARAPHE_VENDOR_COLOR : {colour} est trop clair, le texte blanc des boutons y serait "
            f"illisible (contraste {contrast_with_white(colour):.1f}:1, il faut au moins "
            f"{MIN_CONTRAST}:1, WCAG 2.1 AA) ; choisissez une teinte plus foncée"
        )
        colour = default.colour

    support = (env.get("PARAPHE_VENDOR_SUPPORT_EMAIL") or default.support_email).strip()
    try:
        support = validate_email(support, check_deliverability=False).normalized
    except EmailNotValidError:
        problems.append(
            "PARAPHE_VENDOR_SUPPORT_EMAIL : l'adresse à laquelle signataires et clients "
            "écrivent (ex. support@editeur.fr)"
        )
        support = default.support_email
    return Branding(
        logo_path=logo_path, logo_url=logo_url, colour=colour.lower(), support_email=support
    )


# --- a remote logo, carried inside the mails ---------------------------------------------

MAX_REMOTE_LOGO_BYTES = 512 * 1024
"""A letterhead logo is a few kilobytes; more is not a logo, and every mail would carry it."""
MAX_LOGO_SIDE = 2048
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class LogoUnavailable(Exception):
    """The remote logo could not be fetched or is not a usable PNG; the message says why, in
    French, for the operator who set `PARAPHE_VENDOR_LOGO`."""


def check_png(data: bytes) -> tuple[int, int]:
    """The PNG's (width, height), after walking every chunk and checking its CRC: an HTML
    error page, a truncated download or another format is refused (stdlib only: Pillow is a
    test dependency)."""
    if not data.startswith(_PNG_SIGNATURE):
        raise LogoUnavailable("ce n'est pas une image PNG")
    offset, names = len(_PNG_SIGNATURE), []
    size = (0, 0)
    while offset + 12 <= len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        name = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        crc = data[offset + 8 + length : offset + 12 + length]
        if (
            len(body) != length
            or len(crc) != 4
            or struct.unpack(">I", crc)[0] != zlib.crc32(name + body)
        ):
            raise LogoUnavailable("image PNG tronquée ou abîmée")
        if name == b"IHDR" and length >= 8:
            size = struct.unpack(">II", body[:8])
        names.append(name)
        offset += 12 + length
        if name == b"IEND":
            break
    if not names or names[0] != b"IHDR" or names[-1] != b"IEND" or 0 in size:
        raise LogoUnavailable("image PNG tronquée ou abîmée")
    if max(size) > MAX_LOGO_SIDE:
        raise LogoUnavailable(
            f"image de {size[0]} × {size[1]} pixels, {MAX_LOGO_SIDE} au plus par côté"
        )
    return size


def fetch_remote_logo(
    url: str, *, timeout: float = 5.0, max_bytes: int = MAX_REMOTE_LOGO_BYTES
) -> bytes:
    """The logo at `url` as PNG bytes, read once so that mails carry it (``cid:``) instead of
    linking it: mail clients block remote images, and a remote image in a mail tells its
    host who opened the mail and when. `LogoUnavailable` says why it cannot serve."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise LogoUnavailable("une adresse https:// d'image est attendue")
    connection_class = HTTPSConnection if parts.scheme == "https" else HTTPConnection
    connection = connection_class(parts.hostname, parts.port, timeout=timeout)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("GET", target, headers={"Accept": "image/png"})
        with connection.getresponse() as response:
            # No redirect followed: the address configured is the one fetched, nowhere else.
            if response.status != HTTPStatus.OK:
                raise LogoUnavailable(f"le serveur a répondu {response.status} {response.reason}")
            media_type = response.headers.get_content_type()
            data = response.read(max_bytes + 1)
    except (OSError, HTTPException) as exc:
        raise LogoUnavailable(f"adresse injoignable ({exc})") from exc
    finally:
        connection.close()
    if len(data) > max_bytes:
        raise LogoUnavailable(f"image de plus de {max_bytes // 1024} Kio")
    if media_type != "image/png":
        raise LogoUnavailable(f"le serveur envoie « {media_type} », pas une image PNG")
    check_png(data)
    return data
