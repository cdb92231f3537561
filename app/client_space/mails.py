"""The sign-in mail of the client's space: French, naming the vendor (a mail that does not
say who sends it looks like phishing), the link and how long it lasts; written in
`app/templates/mails/client_space/sign_in.txt`."""

from __future__ import annotations

from app.client_space.signin import IssuedSignIn
from app.mail import OutgoingMail
from app.rendering.mail_text import render_mail

SIGN_IN_PATH = "/espace-client/connexion/"
"""Where a link lands (the `client_space.confirm` route): the token follows it."""


def sign_in_url(base_url: str, token: str) -> str:
    return base_url.rstrip("/") + SIGN_IN_PATH + token


def sign_in_mail(vendor: str, base_url: str, issued: IssuedSignIn) -> OutgoingMail:
    return render_mail(
        "client_space/sign_in.txt",
        issued.email,
        vendor=vendor,
        client=issued.client.legal_name,
        link=sign_in_url(base_url, issued.token),
        expires_at=issued.expires_at,
    )
