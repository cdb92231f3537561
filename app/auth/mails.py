"""The mails of the accounts: a reset link, an invitation. Written as templates in
`app/templates/mails/auth/` (subject and text, in French, naming the vendor: a mail that does
not say who sends it looks like phishing), rendered by `app.rendering.mail_text`."""

from __future__ import annotations

from app.auth.accounts import IssuedLink
from app.config import Settings
from app.mail import OutgoingMail
from app.rendering.mail_text import render_mail

SET_PASSWORD_PATH = "/mot-de-passe/"  # noqa: S105 (a URL path, not a password)
"""Where a link lands (the `accounts.set_password` route): the token follows it."""


def link_url(settings: Settings, token: str) -> str:
    return settings.base_url.rstrip("/") + SET_PASSWORD_PATH + token


def _mail(settings: Settings, issued: IssuedLink, template: str) -> OutgoingMail:
    return render_mail(
        template,
        issued.user.email,
        user=issued.user,
        vendor=settings.vendor.legal_name,
        link=link_url(settings, issued.token),
        expires_at=issued.expires_at,
    )


def reset_mail(settings: Settings, issued: IssuedLink) -> OutgoingMail:
    return _mail(settings, issued, "auth/password_reset.txt")


def invitation_mail(settings: Settings, issued: IssuedLink) -> OutgoingMail:
    return _mail(settings, issued, "auth/invitation.txt")
