"""The sign-in mail of the client's space: French, naming the vendor (a mail that does not
say who sends it looks like phishing), the link and how long it lasts."""

from __future__ import annotations

from app.client_space.signin import IssuedSignIn
from app.mail import OutgoingMail
from app.rendering.french import format_datetime

SIGN_IN_PATH = "/espace-client/connexion/"
"""Where a link lands (the `client_space.confirm` route): the token follows it."""


def sign_in_url(base_url: str, token: str) -> str:
    return base_url.rstrip("/") + SIGN_IN_PATH + token


def sign_in_mail(vendor: str, base_url: str, issued: IssuedSignIn) -> OutgoingMail:
    text = (
        "Bonjour,\n\n"
        f"Voici votre lien de connexion à l'espace client de {vendor} pour "
        f"{issued.client.legal_name} :\n\n"
        f"{sign_in_url(base_url, issued.token)}\n\n"
        f"Il est valable jusqu'au {format_datetime(issued.expires_at)} et ne sert qu'une fois.\n"
        "Si vous n'avez pas demandé ce lien, ignorez ce message : personne ne peut entrer "
        "dans votre espace sans lui.\n\n"
        f"{vendor}\n"
    )
    return OutgoingMail(
        to=issued.email, subject=f"{vendor} : votre lien de connexion à l'espace client", text=text
    )
