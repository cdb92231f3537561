"""Accounts on the web: "mot de passe oublié" by an emailed single-use link, and the users page
of administrators (invite, change a role, deactivate, reactivate), through HTTP as a browser
would, with the mails read from the outbox."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from email.header import decode_header, make_header
from email.message import Message
from html import unescape

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from app.audit.models import AuditEvent
from app.auth import accounts
from app.auth.models import AccountLink, Role, User
from app.db import transaction, utcnow
from tests.conftest import csrf_from
from tests.factories.clock import REFERENCE_NOW
from tests.factories.people import PASSWORD, login, make_user, submit_login
from tests.integration.helpers import body_text, outbox_messages, post_form

NEW_PASSWORD = "un-tout-nouveau-secret"
PROTECTED = "/clients/"


def _mails(app: Flask, to: str) -> list[Message]:
    outbox = app.extensions["paraphe"].settings.outbox_dir
    return [m for m in outbox_messages(outbox) if m["To"] == to]


def _subject(message: Message) -> str:
    return str(make_header(decode_header(str(message["Subject"]))))


def _link(message: Message) -> str:
    match = re.search(r"https?://[^/\s]+(/mot-de-passe/[A-Za-z0-9_\-]{40,})\s", body_text(message))
    assert match, body_text(message)
    return match.group(1)


def _ask_reset(browser: FlaskClient, address: str) -> tuple[int, str]:
    response = post_form(browser, "/mot-de-passe-oublie", {"email": address})
    return response.status_code, response.get_data(as_text=True)


def _set_password(
    browser: FlaskClient, link: str, password: str, confirmation: str | None = None
) -> TestResponse:
    return post_form(
        browser, link, {"password": password, "confirmation": confirmation or password}
    )


def _actions(app: Flask) -> list[str]:
    with transaction(app.extensions["paraphe"].session_factory) as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def _can_log_in(app: Flask, address: str, password: str) -> bool:
    return submit_login(app.test_client(), address, password).status_code == 302


def test_the_login_page_links_to_the_forgotten_password_page(app: Flask) -> None:
    page = app.test_client().get("/connexion").get_data(as_text=True)
    assert 'href="/mot-de-passe-oublie"' in page


def test_a_reset_link_sets_a_new_password_once_and_ends_every_session(app: Flask) -> None:
    address = make_user(app, Role.SALES)
    other_browser = app.test_client()
    login(other_browser, address)
    assert other_browser.get(PROTECTED).status_code == 200

    status, page = _ask_reset(app.test_client(), address)
    assert status == 200 and "Si un compte actif correspond" in page
    [mail] = _mails(app, address)
    vendor = app.extensions["paraphe"].settings.vendor.legal_name
    assert vendor in _subject(mail) and "mot de passe" in _subject(mail)
    assert vendor in body_text(mail)
    link = _link(mail)

    browser = app.test_client()
    response = _set_password(browser, link, NEW_PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/connexion"
    assert _can_log_in(app, address, NEW_PASSWORD)
    assert not _can_log_in(app, address, PASSWORD)
    # the session opened before the reset is over
    assert other_browser.get(PROTECTED).status_code == 302
    # the link worked once
    again = browser.get(link)
    assert again.status_code == 410 and "Lien non valable" in again.get_data(as_text=True)
    actions = _actions(app)
    assert "user.password_reset_requested" in actions and "user.password_reset" in actions


def test_the_answer_is_the_same_whether_the_address_has_an_account_or_not(app: Flask) -> None:
    address = make_user(app, Role.SALES)
    known = _ask_reset(app.test_client(), address)
    unknown = _ask_reset(app.test_client(), "personne@example.test")

    def without_token(page: str) -> str:
        return re.sub(r'name="csrf_token"[^>]*>', "", page)

    assert known[0] == unknown[0] == 200
    assert without_token(known[1]) == without_token(unknown[1])
    assert len(_mails(app, address)) == 1
    assert _mails(app, "personne@example.test") == []


def test_a_deactivated_account_gets_no_reset_link(app: Flask) -> None:
    address = make_user(app, Role.SALES)
    assert (
        app.test_cli_runner().invoke(args=["users", "deactivate", "--email", address]).exit_code
        == 0
    )
    status, _page = _ask_reset(app.test_client(), address)
    assert status == 200
    assert _mails(app, address) == []


def test_an_expired_link_and_a_replaced_link_no_longer_open(app: Flask) -> None:
    address = make_user(app, Role.SALES)
    factory = app.extensions["paraphe"].session_factory
    with transaction(factory) as session:
        old = accounts.issue_password_reset(
            session, email=address, now=utcnow() - accounts.RESET_VALIDITY - timedelta(minutes=1)
        )
    assert old is not None
    assert app.test_client().get(f"/mot-de-passe/{old.token}").status_code == 410

    _ask_reset(app.test_client(), address)
    _ask_reset(app.test_client(), address)
    first, second = (_link(m) for m in _mails(app, address))
    assert app.test_client().get(first).status_code == 410  # replaced by the newer mail
    assert app.test_client().get(second).status_code == 200
    # only the hash is stored, never the token
    with transaction(factory) as session:
        hashes = set(session.scalars(select(AccountLink.token_hash)))
    assert second.rsplit("/", 1)[1] not in hashes and len(hashes) == 3


def test_every_password_error_is_shown_in_one_submission(app: Flask) -> None:
    address = make_user(app, Role.SALES)
    _ask_reset(app.test_client(), address)
    [mail] = _mails(app, address)
    response = _set_password(app.test_client(), _link(mail), "court", "different")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "au moins" in page or "de 12 à 200 caractères" in page
    assert "ne sont pas identiques" in page
    assert _can_log_in(app, address, PASSWORD)  # nothing changed


def test_reset_requests_are_rate_limited_per_address(app: Flask) -> None:
    address = make_user(app, Role.SALES)
    statuses = [_ask_reset(app.test_client(), address)[0] for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert len(_mails(app, address)) == 3


def _admin(app: Flask) -> FlaskClient:
    browser = app.test_client()
    login(browser, make_user(app, Role.ADMIN))
    return browser


def _user_id(app: Flask, address: str) -> int:
    with transaction(app.extensions["paraphe"].session_factory) as session:
        user = session.scalar(select(User).where(User.email == address))
        assert user is not None
        return user.id


def _post_action(browser: FlaskClient, url: str, **data: str) -> TestResponse:
    token = csrf_from(browser.get("/admin/utilisateurs").get_data(as_text=True))
    return browser.post(url, data={"csrf_token": token, **data})


def test_an_admin_invites_a_user_who_chooses_a_password_from_the_mail(app: Flask) -> None:
    admin = _admin(app)
    response = post_form(
        admin,
        "/admin/utilisateurs",
        {"full_name": "Camille Durand", "email": "Camille@Example.com", "role": "legal"},
    )
    assert response.status_code == 302
    page = admin.get("/admin/utilisateurs").get_data(as_text=True)
    assert "Invitation envoyée à camille@example.com" in page
    assert "Camille Durand" in page and "Juridique" in page

    [mail] = _mails(app, "camille@example.com")
    vendor = app.extensions["paraphe"].settings.vendor.legal_name
    assert vendor in _subject(mail) and vendor in body_text(mail)
    assert "Juridique" in body_text(mail)
    link = _link(mail)
    invited = app.test_client()
    assert "choisissez votre mot de passe" in invited.get(link).get_data(as_text=True)
    assert _set_password(invited, link, NEW_PASSWORD).status_code == 302
    assert _can_log_in(app, "camille@example.com", NEW_PASSWORD)
    assert {"user.invited", "user.invitation_accepted"} <= set(_actions(app))


def test_the_invitation_form_shows_every_error_at_once(app: Flask) -> None:
    admin = _admin(app)
    response = post_form(
        admin, "/admin/utilisateurs", {"full_name": "", "email": "pas-une-adresse", "role": "x"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Indiquez le nom." in page
    assert "Adresse e-mail invalide." in page
    assert page.count('class="field-error"') == 3


def test_inviting_an_existing_address_is_refused_on_the_field(app: Flask) -> None:
    admin = _admin(app)
    address = make_user(app, Role.SALES, "vendeur@example.com")
    response = post_form(
        admin, "/admin/utilisateurs", {"full_name": "Doublon", "email": address, "role": "sales"}
    )
    assert response.status_code == 422
    assert "existe déjà" in response.get_data(as_text=True)
    assert _mails(app, address) == []


def test_a_role_change_and_a_deactivation_end_the_users_sessions(app: Flask) -> None:
    admin = _admin(app)
    address = make_user(app, Role.SALES)
    user_id = _user_id(app, address)
    browser = app.test_client()
    login(browser, address)

    response = _post_action(admin, f"/admin/utilisateurs/{user_id}/role", role="legal")
    assert response.status_code == 302
    assert browser.get(PROTECTED).status_code == 302  # the session opened as sales is over
    login(browser, address)
    # legal may read clients but no longer create one
    assert browser.get("/clients/nouveau").status_code == 403

    assert _post_action(admin, f"/admin/utilisateurs/{user_id}/desactivation").status_code == 302
    assert browser.get(PROTECTED).status_code == 302
    assert not _can_log_in(app, address, PASSWORD)
    assert "désactivé" in admin.get("/admin/utilisateurs").get_data(as_text=True)

    assert _post_action(admin, f"/admin/utilisateurs/{user_id}/reactivation").status_code == 302
    assert _can_log_in(app, address, PASSWORD)
    assert {"user.role_changed", "user.deactivated", "user.reactivated"} <= set(_actions(app))


def test_an_admin_cannot_deactivate_or_demote_themself(app: Flask) -> None:
    admin = _admin(app)
    own_id = _user_id(app, "admin@example.test")
    response = _post_action(admin, f"/admin/utilisateurs/{own_id}/desactivation")
    assert response.status_code == 302
    assert "propre" in admin.get("/admin/utilisateurs").get_data(as_text=True)
    _post_action(admin, f"/admin/utilisateurs/{own_id}/role", role="sales")
    assert admin.get("/admin/utilisateurs").status_code == 200  # still admin, still logged in


def test_the_users_page_refuses_a_post_without_csrf(app: Flask) -> None:
    admin = _admin(app)
    address = make_user(app, Role.SALES)
    user_id = _user_id(app, address)
    response = admin.post(f"/admin/utilisateurs/{user_id}/desactivation")
    assert response.status_code == 400
    assert _can_log_in(app, address, PASSWORD)


def test_the_role_field_of_each_user_elides_de_before_a_vowel(app: Flask) -> None:
    admin = _admin(app)
    for name, email in (
        ("Anna Archiviste", "anna@example.com"),
        ("Paul Martin", "paul@example.com"),
    ):
        response = post_form(
            admin, "/admin/utilisateurs", {"full_name": name, "email": email, "role": "legal"}
        )
        assert response.status_code == 302
    page = unescape(admin.get("/admin/utilisateurs").get_data(as_text=True))
    assert ">Rôle d'Anna Archiviste</label>" in page
    assert ">Rôle de Paul Martin</label>" in page
    assert "Rôle de Anna" not in page


def test_a_user_s_creation_role_and_title_are_journalled_under_the_user(app: Flask) -> None:
    """The account's history is one query on the journal: every entry names the user as its
    subject, with what changed in its details."""
    admin_id = _user_id(app, make_user(app, Role.ADMIN, "admin@example.com"))
    user_id = _user_id(app, make_user(app, Role.SALES, "vera@example.com"))
    with transaction(app.extensions["paraphe"].session_factory) as session:
        acting = session.get_one(User, admin_id)
        accounts.change_role(session, user_id, role=Role.LEGAL, acting=acting, now=REFERENCE_NOW)
        accounts.change_title(
            session, user_id, title="Directrice juridique", acting=acting, now=REFERENCE_NOW
        )
    with transaction(app.extensions["paraphe"].session_factory) as session:
        entries = session.scalars(
            select(AuditEvent).where(AuditEvent.subject_id == str(user_id)).order_by(AuditEvent.id)
        ).all()
    assert [(e.action, e.subject_type, e.actor, json.loads(e.details)) for e in entries] == [
        ("user.created", "user", "system", {"email": "vera@example.com", "role": "sales"}),
        ("user.role_changed", "user", f"user:{admin_id}", {"from": "sales", "to": "legal"}),
        (
            "user.title_changed",
            "user",
            f"user:{admin_id}",
            {"from": None, "to": "Directrice juridique"},
        ),
    ]
