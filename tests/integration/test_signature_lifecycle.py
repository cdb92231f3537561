"""Decline with a reason, cancel and resend by sales, reminders and expiry as cron commands,
the sweeper command and the operators' page of requests waiting for their seal."""

from __future__ import annotations

from datetime import timedelta
from email.message import Message
from html import unescape

from flask import Flask
from sqlalchemy import select, update

from app.auth.models import Role
from app.contracts.models import ContractVersion, VersionStatus
from app.db import transaction, utcnow
from app.signatures.models import (
    ReplacedSigningLink,
    RequestStatus,
    SignatureRequest,
    Signer,
    SignerStatus,
)
from app.tokens import token_hash
from tests.conftest import csrf_from
from tests.factories import (
    login_as,
    runtime,
    session_of,
    sign_through_services,
)
from tests.factories.signing import seal_failing
from tests.integration.helpers import authenticate, body_text, outbox_messages, signing_link

SIGNER = "zoe@example.fr"


def only_request(app: Flask) -> SignatureRequest:
    with session_of(app) as session:
        request = session.scalar(select(SignatureRequest))
        assert request is not None
        session.expunge_all()
        return request


def version_status(app: Flask) -> VersionStatus:
    with session_of(app) as session:
        version = session.scalar(select(ContractVersion))
        assert version is not None
        return version.status


def mails_to(app: Flask, to: str) -> list[str]:
    return [
        body_text(m) for m in outbox_messages(runtime(app).settings.outbox_dir) if m["To"] == to
    ]


def test_signer_declines_with_a_reason(app: Flask, link: str) -> None:
    browser = app.test_client()
    csrf = csrf_from(browser.get(link).get_data(as_text=True))
    # without the code, no decline either
    assert (
        browser.post(f"{link}/refuser", data={"csrf_token": csrf, "reason": "x"}).status_code == 403
    )
    authenticate(app, browser, link, SIGNER)
    empty = browser.post(f"{link}/refuser", data={"csrf_token": csrf, "reason": "  "})
    assert empty.status_code == 422
    assert only_request(app).status is RequestStatus.SENT
    done = browser.post(
        f"{link}/refuser", data={"csrf_token": csrf, "reason": "Prix <b>trop élevé</b>"}
    )
    assert done.status_code == 200
    request = only_request(app)
    assert request.status is RequestStatus.DECLINED
    assert request.closed_reason == "refus de Zoë Martin : Prix <b>trop élevé</b>"
    assert version_status(app) is VersionStatus.GENERATED  # can be sent again
    assert any("est refusée" in text and "trop élevé" in text for text in mails_to(app, SIGNER))
    assert browser.get(link).status_code == 410


def test_the_reason_of_a_decline_elides_de_before_a_vowel(app: Flask, link: str) -> None:
    """« refus d'Élodie Martin », never « refus de Élodie Martin »."""
    with transaction(runtime(app).session_factory) as session:
        session.execute(update(Signer).where(Signer.email == SIGNER).values(name="Élodie Martin"))
    browser = app.test_client()
    csrf = csrf_from(browser.get(link).get_data(as_text=True))
    authenticate(app, browser, link, SIGNER)
    done = browser.post(f"{link}/refuser", data={"csrf_token": csrf, "reason": "Trop cher"})
    assert done.status_code == 200
    assert only_request(app).closed_reason == "refus d'Élodie Martin : Trop cher"


def test_sales_cancel_then_send_again(app: Flask, link: str) -> None:
    sales = login_as(app, Role.SALES)
    request_id = only_request(app).id
    contract_page = f"/contrats/{only_request(app).contract_version.contract_id}"
    page = sales.get(contract_page).get_data(as_text=True)
    assert f'id="cancel-{request_id}"' in page
    response = sales.post(
        f"/demandes-signature/{request_id}/annuler",
        data={"csrf_token": csrf_from(page), "reason": "Erreur de tarif"},
    )
    assert response.status_code == 302
    assert only_request(app).status is RequestStatus.CANCELLED
    assert app.test_client().get(link).status_code == 410
    assert any("est annulée" in text for text in mails_to(app, SIGNER))
    # a second cancel is refused; the version can be sent again
    again = sales.post(
        f"/demandes-signature/{request_id}/annuler", data={"csrf_token": csrf_from(page)}
    )
    assert again.status_code == 409
    assert version_status(app) is VersionStatus.GENERATED
    assert 'id="send"' in sales.get(contract_page).get_data(as_text=True)


def test_resend_replaces_the_link_and_unlocks(app: Flask, link: str) -> None:
    with transaction(runtime(app).session_factory) as session:
        signer = session.scalar(select(Signer))
        assert signer is not None
        signer.otp_locked_at = utcnow()
        signer.otp_failures = 5
    sales = login_as(app, Role.SALES)
    request = only_request(app)
    page = sales.get(f"/contrats/{request.contract_version.contract_id}").get_data(as_text=True)
    response = sales.post(
        f"/demandes-signature/{request.id}/renvoyer", data={"csrf_token": csrf_from(page)}
    )
    assert response.status_code == 302
    old = app.test_client().get(link)  # the old link is gone, and says why
    assert old.status_code == 410
    assert "remplacé par celui d'un nouvel envoi" in unescape(old.get_data(as_text=True))
    new = [m for m in outbox_messages(runtime(app).settings.outbox_dir) if m["To"] == SIGNER]
    fresh = signing_link(new[-1])
    assert fresh != link
    sign_through_services(app, fresh)  # unlocked: a code works again
    assert only_request(app).status is RequestStatus.COMPLETED


def test_reminders_follow_the_schedule(app: Flask, link: str) -> None:
    runner = app.test_cli_runner()
    assert "0\u00a0relance." in runner.invoke(args=["signatures", "remind"]).output
    with transaction(runtime(app).session_factory) as session:
        signer = session.scalar(select(Signer))
        assert signer is not None and signer.notified_at is not None
        signer.notified_at = signer.notified_at - timedelta(days=3, minutes=1)
    result = runner.invoke(args=["signatures", "remind"])
    assert result.exit_code == 0 and "1\u00a0relance." in result.output
    assert "\n1\u00a0e-mail envoyé.\n" in result.output
    assert "0\u00a0relance." in runner.invoke(args=["signatures", "remind"]).output  # next at 7
    reminder = mails_to(app, SIGNER)[-1]
    assert "Ceci est un rappel" in reminder
    # a wording that holds for every signer (not « Vous êtes invité »)
    assert "Votre signature est attendue sur le contrat " in reminder
    assert "invité" not in reminder


def test_a_reminder_replaces_the_link_and_the_old_one_says_so(app: Flask, link: str) -> None:
    """One valid link per signer: links are stored hashed, so a reminder mails a new one and
    the earlier links stop working with a clear French message (410), never a 500."""
    runner = app.test_cli_runner()
    browser = app.test_client()
    authenticate(app, browser, link, SIGNER)  # mid-way through signing with the first link
    csrf = csrf_from(browser.get(link).get_data(as_text=True))
    links = [link]
    for days in (3, 7):
        with transaction(runtime(app).session_factory) as session:
            signer = session.scalar(select(Signer))
            assert signer is not None and signer.notified_at is not None
            signer.notified_at = utcnow() - timedelta(days=days, minutes=1)
            # the earlier reminder mailed on its day (3), not a minute ago: a day apart at least
            session.execute(
                update(ReplacedSigningLink).values(
                    replaced_at=signer.notified_at + timedelta(days=3)
                )
            )
            _quiet_since(signer, hours=13)  # the signer stopped half-way, a while ago
            expires = signer.token_expires_at
        assert "1\u00a0relance." in runner.invoke(args=["signatures", "remind"]).output
        links.append(signing_link(reminder_messages(app)[-1]))
        with session_of(app) as session:
            signer = session.scalar(select(Signer))
            assert signer is not None
            assert signer.token_expires_at == expires  # the deadline does not move
            assert signer.token_hash == token_hash(links[-1].rsplit("/", 1)[1])
    assert len(set(links)) == 3

    for old in links[:2]:  # the invitation's link and the first reminder's
        page = browser.get(old)
        assert page.status_code == 410
        text = unescape(page.get_data(as_text=True))
        assert "remplacé par celui du courriel de rappel envoyé le" in text
        assert "utilisez le lien du courriel le plus récent" in text
        for sub in ("contrat.pdf", "cgv.pdf"):
            assert browser.get(f"{old}/{sub}").status_code == 410
        refused = browser.post(old, data={"csrf_token": csrf, "accept_cgv": "oui", "agree": "oui"})
        assert refused.status_code == 410
        assert "remplacé" in unescape(refused.get_data(as_text=True))
        code = browser.post(f"{old}/code", data={"csrf_token": csrf})
        assert code.status_code == 410
    assert only_request(app).status is RequestStatus.SENT  # nothing was signed

    # the latest link works: a new code, then the signature
    sign_through_services(app, links[-1])
    assert only_request(app).status is RequestStatus.COMPLETED
    after = browser.get(links[0])
    assert after.status_code == 410
    assert "avec lequel le document a été signé" in unescape(after.get_data(as_text=True))


def _quiet_since(signer: Signer, *, hours: int) -> None:
    past = utcnow() - timedelta(hours=hours)
    for name in ("opened_at", "otp_sent_at", "authenticated_at"):
        if getattr(signer, name) is not None:
            setattr(signer, name, past)


def test_a_signer_signing_right_now_is_reminded_later(app: Flask, link: str) -> None:
    """A reminder replaces the link: it waits while the signer is busy with the current one
    (opened, code asked or entered within 12 hours), and goes out on a later run."""
    runner = app.test_cli_runner()
    browser = app.test_client()
    with transaction(runtime(app).session_factory) as session:
        signer = session.scalar(select(Signer))
        assert signer is not None and signer.notified_at is not None
        signer.notified_at = utcnow() - timedelta(days=3, minutes=1)
    authenticate(app, browser, link, SIGNER)  # code asked and entered just now
    assert "0\u00a0relance." in runner.invoke(args=["signatures", "remind"]).output
    assert browser.get(link).status_code == 200  # the link in their hands still works
    with transaction(runtime(app).session_factory) as session:
        signer = session.scalar(select(Signer))
        assert signer is not None
        _quiet_since(signer, hours=13)
    assert "1\u00a0relance." in runner.invoke(args=["signatures", "remind"]).output
    assert browser.get(link).status_code == 410


def reminder_messages(app: Flask) -> list[Message]:
    return [
        m
        for m in outbox_messages(runtime(app).settings.outbox_dir)
        if m["To"] == SIGNER and "Ceci est un rappel" in body_text(m)
    ]


def test_expire_command_closes_overdue_requests(app: Flask, link: str) -> None:
    runner = app.test_cli_runner()
    assert "0\u00a0demande expirée." in runner.invoke(args=["signatures", "expire"]).output
    with transaction(runtime(app).session_factory) as session:
        request = session.scalar(select(SignatureRequest))
        assert request is not None and request.expires_at is not None
        assert request.expires_at - request.created_at == timedelta(days=30)
        request.expires_at = utcnow() - timedelta(seconds=1)
    result = runner.invoke(args=["signatures", "expire"])
    assert result.exit_code == 0 and "1\u00a0demande expirée." in result.output
    request = only_request(app)
    assert request.status is RequestStatus.EXPIRED
    with session_of(app) as session:
        assert {s.status for s in session.scalars(select(Signer))} == {SignerStatus.EXPIRED}
    assert app.test_client().get(link).status_code == 410


def test_sweep_command_and_operators_page(app: Flask, link: str) -> None:
    runner = app.test_cli_runner()
    admin = login_as(app, Role.ADMIN)
    with seal_failing(app):
        sign_through_services(app, link)
        request_id = only_request(app).id
        page = admin.get("/demandes-signature/cachet-en-attente").get_data(as_text=True)
        assert "horodatage indisponible" in page and 'id="stuck"' in page
        failed = runner.invoke(args=["signatures", "sweep"])
        assert failed.exit_code == 1 and "1 en échec" in failed.output
    done = runner.invoke(args=["signatures", "sweep"])
    assert done.exit_code == 0 and "1\u00a0demande scellée" in done.output
    assert only_request(app).signed_document_id is not None
    assert 'id="none"' in admin.get("/demandes-signature/cachet-en-attente").get_data(as_text=True)
    assert any("/signature/document/" in text for text in mails_to(app, SIGNER))
    # sales may not see the operators' page
    assert login_as(app, Role.LEGAL).get("/demandes-signature/cachet-en-attente").status_code in (
        302,
        403,
    )
    assert request_id


def test_operator_can_seal_now(app: Flask, link: str) -> None:
    with seal_failing(app):
        sign_through_services(app, link)
    admin = login_as(app, Role.ADMIN)
    page = admin.get("/demandes-signature/cachet-en-attente").get_data(as_text=True)
    request_id = only_request(app).id
    response = admin.post(
        f"/demandes-signature/{request_id}/sceller", data={"csrf_token": csrf_from(page)}
    )
    assert response.status_code == 302
    assert only_request(app).sealed_at is not None
