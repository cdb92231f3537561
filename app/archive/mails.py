"""What the restitution sends and serves: emails to the client's contact, archive streams."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime

from flask import Response

from app.archive.models import Document
from app.clients.models import Client
from app.mail import Mailer, MailError, OutgoingMail
from app.rendering.french import format_datetime
from storage import BlobStore

logger = logging.getLogger(__name__)
_CHUNK = 1 << 20


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


def stream_document(store: BlobStore, document: Document) -> Response:
    """The archived blob as a download, read in chunks (and verified at the end)."""
    source = store.open(document.sha256)

    def chunks() -> Iterator[bytes]:
        with source:
            while chunk := source.read(_CHUNK):
                yield chunk

    return Response(
        chunks(),
        mimetype=document.media_type,
        headers={
            "Content-Length": str(document.size),
            "Content-Disposition": f'attachment; filename="{document.filename}"',
            "ETag": f'"{document.sha256}"',
            "Cache-Control": "private, no-store",
        },
    )
