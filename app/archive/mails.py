"""What the restitution sends: emails to the client's contact."""

from __future__ import annotations

import logging
from datetime import datetime

from app.clients.models import Client
from app.mail import Mailer, MailError, OutgoingMail
from app.rendering.french import format_datetime

logger = logging.getLogger(__name__)


def invitation_mail(client: Client, url: str, expires_at: datetime) -> OutgoingMail:
    return OutgoingMail(
        to=client.signer_email,
        subject=f"Restitution de vos documents — {client.legal_name}",
        text=(
            f"Bonjour,\n\nPour recevoir l'archive de tous les documents de {client.legal_name} "
            f"(contrats, contrats signés, preuves, CGV, factures), ouvrez ce lien :\n\n{url}\n\n"
            f"Il est valable jusqu'au {format_datetime(expires_at)}.\n"
        ),
    )


def download_mail(client: Client, url: str, expires_at: datetime) -> OutgoingMail:
    return OutgoingMail(
        to=client.signer_email,
        subject=f"Votre archive de restitution est prête — {client.legal_name}",
        text=(
            f"Bonjour,\n\nL'archive de restitution de {client.legal_name} est prête. "
            f"Téléchargez-la ici :\n\n{url}\n\nLe lien est valable jusqu'au "
            f"{format_datetime(expires_at)}. Le fichier LISEZMOI.txt de l'archive explique "
            "comment vérifier l'empreinte de chaque document et le cachet du manifeste.\n"
        ),
    )


def send_mail(mailer: Mailer, mail: OutgoingMail) -> bool:
    """Send after commit; a mail failure does not undo the archive (the link is returned to
    the archivist, who can pass it on), so it is logged and reported, not raised."""
    try:
        mailer.send(mail)
    except MailError:
        logger.exception("Courriel de restitution non envoyé à %s", mail.to)
        return False
    return True
