"""The vendor's visual identity, as signers and clients see it: logo, accent colour, support
address (read from `PARAPHE_VENDOR_LOGO`, `_COLOR`, `_SUPPORT_EMAIL`, checked at start).

A signer who receives a signing link from an unknown sender treats it as phishing unless the
mail and the page say, recognisably, who asks: the vendor's name and logo, its colour, and an
address to write to. The colour is checked against white text (WCAG 2.1 AA, 4.5:1), since
buttons print white on it: a pale brand colour would make every button unreadable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
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
    logo_url: str | None = None  # or an https:// image, linked as is (pages and mails)
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
