"""Anchoring the journal's head, outside Flask: `paraphe audit anchor` and the hourly job
`audit.anchor` call the same function and differ only in how they report its outcome.

With a timestamping authority (PARAPHE_TSA_URL) the head is timestamped (RFC 3161); without
one it is sealed with the platform's key into a new blob of the store. Either way nothing new
since the last anchor means nothing is written: running it every hour, or twice at once, adds
no anchor that proves nothing more."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from app.audit import anchoring, sealing
from app.db import transaction
from app.pki import trust_roots
from app.runtime import Collaborators
from signing import SigningError, TimestampError
from storage import StorageError

NO_TSA = (
    "Aucune autorité d'horodatage n'est configurée (PARAPHE_TSA_URL) : "
    "la tête du journal n'est pas horodatée."
)
SEALED_INSTEAD = (
    "Sans autorité d'horodatage, la tête du journal est scellée avec la clé de la plateforme "
    "dans le stockage des fichiers, hors de portée de la base."
)


@dataclass(frozen=True)
class AnchorOutcome:
    """What one anchoring did, said in French for the operator or the worker's log."""

    message: str
    failed: bool = False
    notice: str | None = None
    """Said before the message: how the head is anchored when no authority is configured."""


def when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def anchor(collab: Collaborators) -> AnchorOutcome:
    """Timestamp (or, without an authority, seal) the journal's head, unless it already is.
    A refusal of the authority or of the seal writes nothing and is reported as failed."""
    trust = collab.trust()
    tsa_url = collab.settings.tsa_url
    if trust is None or tsa_url is None:
        return _seal(collab)
    try:
        with transaction(collab.session_factory) as session:
            made = anchoring.anchor_head(
                session,
                timestamp=trust.timestamp_digest,
                tsa_url=tsa_url,
                trust_roots=trust_roots(collab.settings),
                now=collab.now,
            )
    except (TimestampError, anchoring.AnchorRefused) as exc:
        return AnchorOutcome(f"Horodatage impossible, rien n'est enregistré : {exc}", failed=True)
    if made is None:
        return AnchorOutcome("Rien à horodater : journal vide, ou sa tête est déjà horodatée.")
    return AnchorOutcome(
        f"Tête du journal horodatée : événement n° {made.event_id} "
        f"(empreinte {made.head_hash[:16]}…), jeton du {when(made.timestamped_at)}."
    )


def _seal(collab: Collaborators) -> AnchorOutcome:
    notice = f"{NO_TSA} {SEALED_INSTEAD}"
    try:
        with transaction(collab.session_factory) as session:
            made = sealing.seal_head(session, collab.store, collab.signing_key(), now=collab.now)
    except (SigningError, StorageError) as exc:
        return AnchorOutcome(
            f"Scellement impossible, rien n'est enregistré : {exc}", failed=True, notice=notice
        )
    if made is None:
        return AnchorOutcome(
            "Rien à sceller : journal vide, ou sa tête est déjà scellée.", notice=notice
        )
    return AnchorOutcome(
        f"Tête du journal scellée : événement n° {made.event_id} "
        f"(empreinte {made.head_hash[:16]}…), ancre {made.blob[:16]}… du "
        f"{when(made.anchored_at)}.",
        notice=notice,
    )
