"""The mail that tells a client of a new CGV version: the summary, the link to the archived
PDF and, for a material version, the personal acceptance link."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.clients.models import Client
from app.mail import OutgoingMail
from app.rendering.french import format_date
from app.rendering.labels import label
from app.terms.models import CgvVersion


@dataclass(frozen=True)
class Letter:
    """What a notification mail says to one client."""

    version: CgvVersion
    client: Client
    vendor_name: str
    base_url: str
    binds: bool  # a minor version that will bind the client once notified and in force


def notification_mail(letter: Letter, token: str | None, expires_at: datetime) -> OutgoingMail:
    """The mail links to the archived PDF and gives the summary, never the whole text: a CGV
    runs to tens of kilobytes, and the PDF is the document the client is bound by."""
    version, client, vendor = letter.version, letter.client, letter.vendor_name
    effective = format_date(version.effective_date)
    lines = [
        f"Bonjour {client.signer_name},",
        "",
        f"{vendor} publie la version {version.label} de ses {version.title.lower()}, "
        f"en vigueur à compter du {effective} (modification {label(version.kind)}).",
        "",
        "Résumé des modifications :",
        version.summary or "(aucun résumé)",
        "",
        f"Le texte intégral (PDF) : {letter.base_url}/cgv/{version.label}.pdf",
        f"Empreinte SHA-256 du texte : {version.sha256}",
        "",
    ]
    if token is not None:
        lines += [
            "Cette version modifie des conditions substantielles : elle ne s'appliquera à "
            f"{client.legal_name} qu'après votre acceptation expresse. Pour la lire et "
            "l'accepter, ouvrez ce lien personnel :",
            f"{letter.base_url}/cgv/accepter/{token}",
            f"Ce lien est valable jusqu'au {format_date(expires_at)}.",
            "",
            "D'ici là, la dernière version que vous avez acceptée continue de s'appliquer.",
        ]
    elif letter.binds:
        lines += [
            "Cette modification ne change pas vos obligations : elle vous sera opposable "
            f"à compter du {effective}, sans démarche de votre part.",
        ]
    else:
        lines += [
            f"{client.legal_name} n'a pas encore accepté une version antérieure dont celle-ci "
            "reprend les modifications : elle ne vous sera opposable qu'après votre "
            "acceptation (par exemple à la signature de votre prochain contrat).",
        ]
    lines += ["", "-- ", vendor, ""]
    return OutgoingMail(
        to=client.signer_email,
        subject=f"{vendor} : nouvelle version {version.label} de ses conditions générales de vente",
        text="\n".join(lines),
    )
