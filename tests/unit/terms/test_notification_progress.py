"""The notification progress of a CGV version, as the version's page and the publication's
flash say it: real French plurals, and no « 0 client(s) notifié(s) » while the mails leave."""

from __future__ import annotations

import pytest

from app.rendering.french import NBSP, NNBSP
from app.terms.planning import Progress


@pytest.mark.parametrize(
    ("progress", "text"),
    [
        (Progress(0, 0, 0, planned=False), "Notification des clients en préparation"),
        (Progress(0, 0, 0, planned=True), "Aucun client à notifier"),
        (Progress(0, 3, 3, planned=True), "Aucun client notifié sur 3"),
        (Progress(1, 3, 2, planned=True), f"1{NBSP}client notifié sur 3"),
        (Progress(2, 2, 0, planned=True), f"2{NBSP}clients notifiés sur 2"),
        (
            Progress(1000, 1200, 200, planned=True),
            f"1{NNBSP}000{NBSP}clients notifiés sur 1{NNBSP}200",
        ),
    ],
)
def test_the_page_says_how_many_clients_were_notified(progress: Progress, text: str) -> None:
    assert progress.text == text


@pytest.mark.parametrize(
    ("progress", "said"),
    [
        (Progress(0, 0, 0, planned=True), "aucun client à notifier."),
        (Progress(1, 1, 0, planned=True), f"1{NBSP}client notifié."),
        (Progress(2, 2, 0, planned=True), f"2{NBSP}clients notifiés."),
        (Progress(0, 0, 0, planned=False), "les courriels aux clients partent en arrière-plan."),
        (Progress(0, 2, 2, planned=True), "les courriels aux clients partent en arrière-plan."),
        (
            Progress(1, 3, 2, planned=True),
            f"1{NBSP}client notifié, les autres courriels partent en arrière-plan.",
        ),
    ],
)
def test_the_publication_says_what_was_done_and_what_is_under_way(
    progress: Progress, said: str
) -> None:
    assert progress.after_publication == said
