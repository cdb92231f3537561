"""The administrator's API token page: a new token is shown once, revoked tokens stop working,
the last use is displayed; hostile names render inert."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from markupsafe import escape
from sqlalchemy import select

from app.auth.models import ApiToken, Role
from app.db import transaction
from tests.conftest import csrf_from
from tests.factories import login_as
from tests.integration.helpers import post_form


def test_admin_creates_uses_and_revokes_a_token(app: Flask) -> None:
    admin = login_as(app, Role.ADMIN)
    page = admin.get("/admin/jetons")
    assert page.status_code == 200 and "Aucun jeton." in page.get_data(as_text=True)
    csrf = csrf_from(page.get_data(as_text=True))

    empty = admin.post("/admin/jetons", data={"csrf_token": csrf, "name": ""})
    assert empty.status_code == 422
    assert "Indiquez un nom." in empty.get_data(as_text=True)
    assert "Choisissez au moins une portée." in empty.get_data(as_text=True)

    created = admin.post(
        "/admin/jetons",
        data={"csrf_token": csrf, "name": "<script>GED</script>", "scopes": ["read"]},
    )
    assert created.status_code == 200
    html = created.get_data(as_text=True)
    match = re.search(r'<code id="new-token" class="hash">(pph_[^<]+)</code>', html)
    assert match, html
    plaintext = match.group(1)
    assert "<script>GED" not in html and "&lt;script&gt;GED" in html
    with transaction(app.extensions["paraphe"].session_factory) as session:
        token = session.scalars(select(ApiToken)).one()
        assert plaintext not in token.token_hash and token.scopes == "read"

    # Shown once: the list does not show it again.
    assert plaintext not in admin.get("/admin/jetons").get_data(as_text=True)

    api = app.test_client()
    bearer = {"Authorization": f"Bearer {plaintext}"}
    assert api.get("/api/v1/documents", headers=bearer).status_code == 200
    listing = admin.get("/admin/jetons").get_data(as_text=True)
    assert "jamais" not in listing.split("<h2>")[0]  # last use recorded and displayed

    revoked = admin.post(f"/admin/jetons/{token.id}/revocation", data={"csrf_token": csrf})
    assert revoked.status_code == 302
    assert "révoqué le" in admin.get("/admin/jetons").get_data(as_text=True)
    assert api.get("/api/v1/documents", headers=bearer).status_code == 401

    unknown = admin.post("/admin/jetons/999/revocation", data={"csrf_token": csrf})
    assert unknown.status_code == 302
    assert "inconnu" in admin.get("/admin/jetons").get_data(as_text=True)


def test_other_roles_cannot_reach_the_token_page(app: Flask) -> None:
    for role in (Role.SALES, Role.LEGAL, Role.ARCHIVIST):
        browser = login_as(app, role)
        assert browser.get("/admin/jetons").status_code == 403


def test_the_scopes_are_a_group_of_labelled_checkboxes(app: Flask) -> None:
    """The scopes are one question with four answers: a fieldset named by its legend, each
    box with its own label (a bare label pointing at a list named nothing)."""
    page = login_as(app, Role.ADMIN).get("/admin/jetons").get_data(as_text=True)
    group = re.search(r'<fieldset class="field field-choices">(.*?)</fieldset>', page, re.S)
    assert group, page
    assert "<legend>Portées</legend>" in group.group(1)
    boxes = re.findall(r'<input id="(scopes-\d)" name="scopes" type="checkbox"', group.group(1))
    assert len(boxes) == 4
    for box in boxes:
        assert f'<label for="{box}">' in group.group(1)
    assert "<h1>Jetons d'API</h1>" in page


def boxes_of(page: str, name: str) -> list[str]:
    """Every checkbox of the group `name`, as rendered (its whole tag)."""
    found = re.findall(rf'<input [^>]*name="{name}"[^>]*type="checkbox"[^>]*>', page)
    assert found, page
    return found


@pytest.mark.parametrize(
    ("url", "name", "empty", "said"),
    [
        ("/admin/jetons", "scopes", {"name": "GED"}, "Choisissez au moins une portée."),
        (
            "/admin/webhooks",
            "event_types",
            {"url": "https://crm.example.com/hooks", "enabled": "y"},
            "Choisissez au moins un type d'événement.",
        ),
    ],
)
def test_no_checkbox_of_a_group_says_it_is_required_each(
    app: Flask, url: str, name: str, empty: dict[str, str], said: str
) -> None:
    """ "At least one" is the group's rule, not each box's: a `required` on every box would
    have a screen reader call each one mandatory (and a browser refuse the form until all
    are ticked). The rule is said by the field error, on the page and tied to the group."""
    admin = login_as(app, Role.ADMIN)
    for box in boxes_of(admin.get(url).get_data(as_text=True), name):
        assert "required" not in box, box
    refused = post_form(admin, url, empty)
    assert refused.status_code == 422, refused.status_code
    page = refused.get_data(as_text=True)
    for box in boxes_of(page, name):
        assert "required" not in box, box
    assert f'aria-describedby="{name}-error"' in page
    assert f'<p class="field-error" id="{name}-error">{escape(said)}</p>' in page
