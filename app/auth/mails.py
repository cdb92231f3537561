"""The mails of the accounts: a reset link, an invitation. Plain text from Jinja templates in
`app/templates/mails/auth/`, in French, naming the vendor (a mail that does not say who sends
it looks like phishing)."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from app.auth.accounts import IssuedLink
from app.config import Settings
from app.mail import OutgoingMail
from app.rendering.french import format_datetime

TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "mails" / "auth"
SET_PASSWORD_PATH = "/mot-de-passe/"  # noqa: S105 (a URL path, not a password)
"""Where a link lands (the `accounts.set_password` route): the token follows it."""

# Plain text, not HTML: no autoescape (a name with "&" must read as typed), and undefined
# names raise so a mail never goes out with a blank where the link should be.
_env = Environment(
    loader=FileSystemLoader(str(TEMPLATES)),
    autoescape=False,  # noqa: S701 (plain-text mails, never HTML)
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)
_env.filters["datetime_fr"] = format_datetime


def link_url(settings: Settings, token: str) -> str:
    return settings.base_url.rstrip("/") + SET_PASSWORD_PATH + token


def _mail(settings: Settings, issued: IssuedLink, template: str, subject: str) -> OutgoingMail:
    text = _env.get_template(template).render(
        user=issued.user,
        vendor=settings.vendor.legal_name,
        link=link_url(settings, issued.token),
        expires_at=issued.expires_at,
    )
    return OutgoingMail(to=issued.user.email, subject=subject, text=text)


def reset_mail(settings: Settings, issued: IssuedLink) -> OutgoingMail:
    vendor = settings.vendor.legal_name
    return _mail(
        settings, issued, "password_reset.txt", f"{vendor} : réinitialisation de votre mot de passe"
    )


def invitation_mail(settings: Settings, issued: IssuedLink) -> OutgoingMail:
    vendor = settings.vendor.legal_name
    return _mail(settings, issued, "invitation.txt", f"{vendor} : votre accès à Paraphe")
