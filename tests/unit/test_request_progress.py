"""Where a signature request stands, in French, and when its page asks again."""

from __future__ import annotations

import pytest

from app.signatures.models import RequestStatus
from app.signatures.progress import (
    POLL_FAILING_SECONDS,
    POLL_SEALING_SECONDS,
    POLL_SIGNATURES_SECONDS,
    RequestProgress,
    Stage,
    soonest_poll,
)


def _progress(status: RequestStatus, stage: Stage, attempts: int = 0) -> RequestProgress:
    return RequestProgress(
        request_id=1, status=status, stage=stage, seal_attempts=attempts, evidence_ready=True
    )


@pytest.mark.parametrize(
    ("status", "stage", "label", "poll"),
    [
        (RequestStatus.SENT, Stage.WAITING_SIGNATURES, "envoyée, en attente des signatures", 30),
        (
            RequestStatus.PARTIALLY_SIGNED,
            Stage.WAITING_SIGNATURES,
            "partiellement signée, en attente des autres signatures",
            POLL_SIGNATURES_SECONDS,
        ),
        (RequestStatus.COMPLETED, Stage.SEALING, "signée, scellement en cours", 2),
        (RequestStatus.COMPLETED, Stage.SEAL_FAILING, "signée, échec du cachet", 15),
        (RequestStatus.COMPLETED, Stage.SEALED, "signée et scellée", None),
        (RequestStatus.DRAFT, Stage.CLOSED, "brouillon", None),
        (RequestStatus.DECLINED, Stage.CLOSED, "refusée", None),
        (RequestStatus.EXPIRED, Stage.CLOSED, "expirée", None),
        (RequestStatus.CANCELLED, Stage.CLOSED, "annulée", None),
    ],
)
def test_labels_and_polling(
    status: RequestStatus, stage: Stage, label: str, poll: int | None
) -> None:
    progress = _progress(status, stage, attempts=3 if stage is Stage.SEAL_FAILING else 0)
    assert progress.label == label
    assert progress.poll_after == poll
    assert (progress.detail is not None) is (stage is Stage.SEAL_FAILING)


def test_a_sealed_request_is_followed_until_its_evidence_file_is_archived() -> None:
    sealed = RequestProgress(1, RequestStatus.COMPLETED, Stage.SEALED, 0, evidence_ready=False)
    assert sealed.poll_after == POLL_SEALING_SECONDS
    done = RequestProgress(1, RequestStatus.COMPLETED, Stage.SEALED, 0, evidence_ready=True)
    assert done.poll_after is None


def test_the_failed_seal_counts_its_attempts() -> None:
    one = _progress(RequestStatus.COMPLETED, Stage.SEAL_FAILING, attempts=1).detail
    three = _progress(RequestStatus.COMPLETED, Stage.SEAL_FAILING, attempts=3).detail
    assert one is not None and one.startswith("1 essai sans succès ; il sera retenté")
    assert three is not None and three.startswith("3 essais sans succès")


def test_a_page_asks_again_for_the_request_that_may_change_first() -> None:
    sealing = _progress(RequestStatus.COMPLETED, Stage.SEALING)
    failing = _progress(RequestStatus.COMPLETED, Stage.SEAL_FAILING, attempts=1)
    sealed = _progress(RequestStatus.COMPLETED, Stage.SEALED)
    assert soonest_poll([failing, sealing, sealed]) == POLL_SEALING_SECONDS
    assert soonest_poll([failing, sealed]) == POLL_FAILING_SECONDS
    assert soonest_poll([sealed]) is None and soonest_poll([]) is None
