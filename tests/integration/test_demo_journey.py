"""`paraphe demo` leaves an evaluator something to follow: the demo client's quote, its
contract (version 1, the real PDF) sent for signature, and one invitation in the outbox whose
link opens the signing page. Run twice, it makes and mails nothing more; a contract it could
not render is said in French, not made behind the operator's back."""

from __future__ import annotations

import email
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select

from app.config import Settings
from app.contracts.models import (
    Contract,
    ContractGeneration,
    ContractVersion,
    GenerationStatus,
    VersionStatus,
)
from app.db import utcnow
from app.demo import seed
from app.demo.journey import DEMO_SIREN
from app.mail.models import OutgoingMailRecord
from app.quotes.models import Quote, QuoteStatus
from app.signatures.models import RequestStatus, SignatureRequest, SignerStatus
from tests.conftest import sealing_around
from tests.factories import count, publish_short_cgv, runtime
from tests.factories.clock import REFERENCE_NOW
from tests.factories.db import session_of
from tests.integration.generation_setup import FullDisk, generations, given_up
from tests.integration.helpers import signing_link

# A few hours into the reference Monday: the demo CGV (1 January 2026) is in force, and the
# certificates below are made around this instant, not the real one.
NOW = REFERENCE_NOW + timedelta(hours=2)
SIGNER = "elodie.martin@example.fr"
SALES = "commercial@demo.paraphe.fr"
PRINTED = ("Mise en service sous 15 jours ouvrés", "Réversibilité des données")
JOURNEY = (Quote, Contract, ContractVersion, ContractGeneration, SignatureRequest)


@pytest.fixture
def demo_app(settings: Settings, tmp_path: Path, make_app: Callable[[Settings], Flask]) -> Flask:
    """The app with its seal valid at NOW: the demo certifies the contract it sends."""
    return make_app(sealing_around(settings, tmp_path, NOW))


def _made(app: Flask) -> dict[str, int]:
    """How many of each record the journey makes, and of the mails."""
    counts = {model.__name__: count(app, model) for model in JOURNEY}
    counts["mails"] = count(app, OutgoingMailRecord)
    return counts


@time_machine.travel(NOW, tick=True)
def test_the_demo_seeds_a_quote_its_contract_and_one_invitation_to_sign(demo_app: Flask) -> None:
    rt = runtime(demo_app)
    lines = seed(rt.collaborators(utcnow()))

    [invitation] = sorted(rt.settings.outbox_dir.glob("*.eml"))
    assert lines[-1] == f"Invitation à signer le contrat de démonstration : {invitation}"
    with session_of(demo_app) as session:
        [quote] = session.scalars(select(Quote)).all()
        assert quote.client.siren == DEMO_SIREN and quote.status is QuoteStatus.CONTRACTED
        assert [(line.designation, line.quantity) for line in quote.lines] == [
            ("Abonnement Essentiel", Decimal("12")),
            ("Frais de mise en service", Decimal("1")),
            ("Journée de formation", Decimal("1")),
        ]
        assert all(line.product_id is not None for line in quote.lines)
        assert quote.particular_terms.startswith(PRINTED[0])
        [contract] = session.scalars(select(Contract)).all()
        [version] = contract.versions
        assert (contract.quote_id, version.version) == (quote.id, 1)
        assert version.status is VersionStatus.SENT
        assert [clause.title for clause in version.clauses] == [PRINTED[1]]
        assert rt.store.get(version.document.sha256).startswith(b"%PDF-")
        [request] = session.scalars(select(SignatureRequest)).all()
        assert request.contract_version_id == version.id
        assert request.status is RequestStatus.SENT
        # The client signs first (the evaluator, from the link); the salesperson countersigns.
        assert [(s.email, s.status) for s in request.signers] == [
            (SIGNER, SignerStatus.NOTIFIED),
            (SALES, SignerStatus.PENDING),
        ]
        number = contract.number

    message = email.message_from_bytes(invitation.read_bytes())
    assert message["To"] == SIGNER
    page = demo_app.test_client().get(signing_link(message))
    assert page.status_code == 200
    assert number in page.get_data(as_text=True)

    made = _made(demo_app)
    assert seed(rt.collaborators(utcnow())) == lines  # the same invitation, found again
    assert _made(demo_app) == made
    assert sorted(rt.settings.outbox_dir.glob("*.eml")) == [invitation]


@time_machine.travel(NOW, tick=True)
def test_a_demo_contract_that_could_not_be_rendered_is_said_and_not_made_again(
    demo_app: Flask,
) -> None:
    publish_short_cgv(demo_app)  # a CGV in force: the demo's own is not published then
    rt = runtime(demo_app)
    full_disk = replace(rt.collaborators(utcnow()), store=FullDisk(rt.settings.storage_dir))

    crashed = seed(full_disk)[-1]
    assert crashed.startswith(
        "Contrat de démonstration pas encore généré : le rendu du PDF a échoué"
    ), crashed
    [asked] = generations(demo_app)
    assert (asked.status, asked.render_attempts) == (GenerationStatus.PENDING, 1)

    given_up(demo_app, asked.id)  # the worker's retries crashed too: the generation failed
    made = _made(demo_app)
    said = seed(rt.collaborators(utcnow()))[-1]
    assert said.startswith("Contrat de démonstration non généré : le rendu du PDF a échoué"), said
    assert _made(demo_app) == made
    assert made["Contract"] == 0 and made["SignatureRequest"] == 0 and made["mails"] == 0
    assert not list(rt.settings.outbox_dir.glob("*.eml"))
