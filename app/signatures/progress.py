"""Where a signature request stands, as the people following it see it: the signer after the
last signature (the seal runs as a job, in the background) and sales on the contract page.

One reading of the request for the page rendered by the server and for the JSON its script
polls, so the two never disagree. Reads only: a GET polled every few seconds changes nothing
and journals nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.orm import Session

from app.rendering.labels import label
from app.signatures.links import find_signer
from app.signatures.models import ACTIVE, RequestStatus, SignatureRequest, Signer, SignerStatus

# While the seal runs, the page asks again soon (it usually takes seconds); while the request
# waits for people (hours, days), rarely; once nothing can change by itself, never.
POLL_SEALING_SECONDS = 2
POLL_FAILING_SECONDS = 15  # the queue retries with backoff, then the sweep every 5 minutes
POLL_SIGNATURES_SECONDS = 30
# The signer's own signature (a job after the consent) takes about a second.
POLL_SIGNING_SECONDS = 1

SIGNING = "signing"
SIGNING_FAILING = "signing_failing"
"""The stages of the signer's own signature, before the request's (`Stage`) in the JSON."""


class Stage(StrEnum):
    WAITING_SIGNATURES = "waiting_signatures"
    SEALING = "sealing"
    SEAL_FAILING = "seal_failing"
    SEALED = "sealed"
    CLOSED = "closed"  # draft, declined, expired or cancelled: nothing follows by itself


@dataclass(frozen=True)
class RequestProgress:
    request_id: int
    status: RequestStatus
    stage: Stage
    seal_attempts: int
    # The sealed evidence file follows the seal, in the same job (or the sweep): until it is
    # archived, a sealed request is still pending on the contract page, which links to it.
    evidence_ready: bool = False
    # A signer's signature job is running (its consent recorded): the page follows it closely.
    signing: bool = False

    @property
    def label(self) -> str:
        """What the contract page says of the request, in French."""
        if self.stage is Stage.CLOSED:
            return label(self.status)
        if self.stage is Stage.WAITING_SIGNATURES and self.status is RequestStatus.PARTIALLY_SIGNED:
            return "partiellement signée, en attente des autres signatures"
        return label(self.stage)

    @property
    def detail(self) -> str | None:
        """The failed seal in words for sales: how many attempts, and that it is retried."""
        if self.stage is not Stage.SEAL_FAILING:
            return None
        attempts = f"{self.seal_attempts} essai{'s' if self.seal_attempts > 1 else ''}"
        return (
            f"{attempts} sans succès ; il sera retenté automatiquement "
            "(l'exploitation suit les cachets en attente)."
        )

    @property
    def poll_after(self) -> int | None:
        """Seconds until the page should ask again; None when nothing will change by itself."""
        if self.stage is Stage.SEALED and not self.evidence_ready:
            return POLL_SEALING_SECONDS
        if self.stage is Stage.WAITING_SIGNATURES and self.signing:
            return POLL_SEALING_SECONDS
        return {
            Stage.SEALING: POLL_SEALING_SECONDS,
            Stage.SEAL_FAILING: POLL_FAILING_SECONDS,
            Stage.WAITING_SIGNATURES: POLL_SIGNATURES_SECONDS,
        }.get(self.stage)


def request_progress(request: SignatureRequest) -> RequestProgress:
    return RequestProgress(
        request_id=request.id,
        status=request.status,
        stage=_stage(request),
        seal_attempts=request.seal_attempts,
        evidence_ready=request.evidence_document_id is not None,
        signing=any(s.status is SignerStatus.SIGNING for s in request.signers),
    )


def _stage(request: SignatureRequest) -> Stage:
    if request.status in ACTIVE:
        return Stage.WAITING_SIGNATURES
    if request.status is not RequestStatus.COMPLETED:
        return Stage.CLOSED
    if request.signed_document_id is not None:
        return Stage.SEALED
    return Stage.SEAL_FAILING if request.seal_attempts > 0 else Stage.SEALING


def soonest_poll(progresses: list[RequestProgress]) -> int | None:
    """When a page showing several requests asks again: for the one that may change first."""
    delays = [p.poll_after for p in progresses if p.poll_after is not None]
    return min(delays) if delays else None


@dataclass(frozen=True)
class SignerProgress:
    """What a signer's page says after the signature: the request's progress, and whether the
    sealed document can be downloaded with this link."""

    signer: Signer
    request: RequestProgress
    downloadable: bool

    @property
    def stage(self) -> str:
        """The signer's signature while its job runs, then the request's stage."""
        if self.signer.status is SignerStatus.SIGNING:
            return SIGNING_FAILING if self.signer.sign_attempts > 0 else SIGNING
        return self.request.stage.value

    @property
    def message(self) -> str:
        if self.stage == SIGNING:
            return (
                "Votre accord est enregistré ; votre signature électronique est en cours "
                "d'apposition sur le document (quelques secondes)."
            )
        if self.stage == SIGNING_FAILING:
            return (
                "Votre accord est enregistré, mais l'apposition de votre signature a pris du "
                "retard (service de signature momentanément indisponible). Elle est relancée "
                "automatiquement : vous n'avez rien à refaire, et vous serez prévenu par e-mail."
            )
        stage = self.request.stage
        if stage is Stage.WAITING_SIGNATURES and self.signer.status is SignerStatus.SIGNED:
            return "Votre signature est apposée. Le contrat attend encore d'autres signatures."
        if stage is Stage.SEALED:
            return (
                "Toutes les parties ont signé et la plateforme a scellé le document : "
                "le contrat signé est prêt."
            )
        if stage is Stage.SEAL_FAILING:
            return (
                "Toutes les parties ont signé. Le scellement par la plateforme a pris du retard ; "
                "il est relancé automatiquement. Vous recevrez aussi le lien du document signé "
                "par e-mail."
            )
        if stage is Stage.SEALING:
            return (
                "Toutes les parties ont signé ; le document est en cours de scellement par la "
                "plateforme. Vous recevrez aussi le lien du document signé par e-mail."
            )
        if stage is Stage.WAITING_SIGNATURES:
            return "Le contrat attend encore d'autres signatures."
        return "Cette demande de signature n'est plus active."

    @property
    def poll_after(self) -> int | None:
        if self.stage == SIGNING:
            return POLL_SIGNING_SECONDS
        if self.stage == SIGNING_FAILING:
            return POLL_FAILING_SECONDS
        if self.request.stage in (Stage.SEALING, Stage.SEAL_FAILING):
            return self.request.poll_after
        return None  # the page does not follow the other signers (a mail tells the signer)


def signer_progress(session: Session, token: str, now: datetime) -> SignerProgress:
    """The progress seen through a signer's link, signed or not (a link that no longer works
    raises like every signer page: SigningLinkGone, SigningLinkUnknown)."""
    signer = find_signer(session, token, now, allow_signed=True)
    request = signer.request
    expired = signer.token_expires_at is not None and signer.token_expires_at <= now
    downloadable = (
        signer.status is SignerStatus.SIGNED
        and request.signed_document_id is not None
        and not expired  # the same rule as the download (links.signed_document_for)
    )
    return SignerProgress(signer, request_progress(request), downloadable)
