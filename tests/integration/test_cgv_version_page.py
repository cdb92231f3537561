"""The page of a CGV version published to many clients lists their notifications page by page
(`notifications.NOTIFICATIONS_PER_PAGE`), with the counts of every client; a page that does
not exist is refused with a precise 422."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import select

from app.auth.models import Role
from app.db import utcnow
from app.rendering.french import NBSP
from app.terms import workflow
from app.terms.models import CgvVersion
from app.terms.notifications import NOTIFICATIONS_PER_PAGE
from tests.factories import login_as, make_client, publish_short_cgv, runtime, session_of
from tests.factories.bulk_clients import seed_active_clients

CLIENTS = 2 * NOTIFICATIONS_PER_PAGE + 20
MAILED = NOTIFICATIONS_PER_PAGE + 10


def _rows(page: str) -> int:
    return len(re.findall(r"<tr><td><a href=\"/clients/", page))


def test_the_notifications_of_a_version_are_paginated_with_every_client_counted(
    app: Flask,
) -> None:
    publish_short_cgv(app)
    seed_active_clients(runtime(app).session_factory, CLIENTS, utcnow())
    with session_of(app) as session:
        version_id = session.scalars(select(CgvVersion.id)).one()
    collab = runtime(app).collaborators(utcnow())
    assert workflow.notify(collab, version_id, limit=MAILED).sent == MAILED
    legal = login_as(app, Role.LEGAL)
    url = f"/cgv/versions/{version_id}"

    first = legal.get(url).get_data(as_text=True)
    assert _rows(first) == NOTIFICATIONS_PER_PAGE
    assert f"{MAILED}{NBSP}clients notifiés sur {CLIENTS}" in first
    assert f"Notifications 1 à 50 sur {CLIENTS} · page 1 sur 3" in first
    assert f'href="{url}?page=2"' in first and "Page précédente" not in first

    last = legal.get(f"{url}?page=3").get_data(as_text=True)
    assert _rows(last) == 20
    assert f"Notifications 101 à {CLIENTS} sur {CLIENTS} · page 3 sur 3" in last
    assert f'href="{url}?page=2"' in last and "Page suivante" not in last
    assert last.count("non envoyée") == 20  # the mailed ones came first
    assert f"{MAILED}{NBSP}clients notifiés sur {CLIENTS}" in last

    for bad, message in (
        ("4", "Page 4 inexistante : de 1 à 3."),
        ("0", "Page 0 inexistante : de 1 à 3."),
        ("deux", "Numéro de page attendu."),
        ("²", "Numéro de page attendu."),
    ):
        refused = legal.get(f"{url}?page={bad}")
        assert refused.status_code == 422, bad
        assert message in refused.get_data(as_text=True)


def test_a_version_without_notifications_has_one_empty_page(app: Flask) -> None:
    publish_short_cgv(app)
    with session_of(app) as session:
        version_id = session.scalars(select(CgvVersion.id)).one()
    page = login_as(app, Role.LEGAL).get(f"/cgv/versions/{version_id}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Aucune notification." in body
    assert "Notifications 1 à" not in body and "Page suivante" not in body


def test_the_notified_clients_are_named_and_linked_for_those_who_may_open_them(
    app: Flask,
) -> None:
    publish_short_cgv(app)
    client_id = make_client(app, legal_name="Atelier Élan SARL")
    with session_of(app) as session:
        version_id = session.scalars(select(CgvVersion.id)).one()
    assert workflow.notify(runtime(app).collaborators(utcnow()), version_id).sent == 1
    url = f"/cgv/versions/{version_id}"

    legal = login_as(app, Role.LEGAL).get(url).get_data(as_text=True)
    assert f'<td><a href="/clients/{client_id}">Atelier Élan SARL</a></td>' in legal
    assert f"n° {client_id}" not in legal
    # an administrator reads the CGV but not the clients' pages: the name, without a link
    admin = login_as(app, Role.ADMIN).get(url).get_data(as_text=True)
    assert "<td>Atelier Élan SARL</td>" in admin
    assert f'href="/clients/{client_id}"' not in admin
