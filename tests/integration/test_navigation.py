"""The top navigation of each role: exactly the sections the role may open.

What a role may open is read from the routing table (the permission each section's view
requires, `require`), not from the template's own conditions: a link the role cannot follow
(403) or a section it may open without a link both fail. Administrators see no « Clients »
nor « Contrats »: those pages refuse their role (app.auth.rules.ROLE_PERMISSIONS, they do not
sell or sign in anyone's name), and a link would lead to « Votre rôle ne permet pas cette
action. »"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from flask import Flask, url_for

from app.auth.models import Role
from app.auth.rules import can
from tests.factories import login_as

# Each section of the navigation: its label and the page it opens.
SECTIONS = {
    "Clients": "clients.index",
    "Contrats": "contracts.index",
    "CGV": "cgv.index",
    "Catalogue": "quotes.catalogue",
    "Clauses": "clauses.index",
    "Utilisateurs": "users_admin.users",
    "Jetons d'API": "auth_admin.api_tokens",
    "Webhooks": "webhook_views.index",
    "Factures": "invoices.index",
    "Cachets en attente": "signature_requests.stuck",
    "Travaux en échec": "job_runs.failed",
}


class _NavLinks(HTMLParser):
    """The (text, href) of each link inside the page's <nav>."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.href: str | None = None
        self.text = ""
        self.links: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "nav":
            self.depth += 1
        elif tag == "a" and self.depth:
            self.href, self.text = dict(attrs).get("href") or "", ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav":
            self.depth -= 1
        elif tag == "a" and self.href is not None:
            self.links.append((" ".join(self.text.split()), self.href))
            self.href = None

    def handle_data(self, data: str) -> None:
        if self.href is not None:
            self.text += data


def nav_links(page: str) -> list[tuple[str, str]]:
    parser = _NavLinks()
    parser.feed(page)
    return parser.links


def allowed_sections(app: Flask, role: Role) -> dict[str, str]:
    """label -> URL of each section the role's permissions open, per the routing table."""
    with app.test_request_context():
        return {
            label: url_for(endpoint)
            for label, endpoint in SECTIONS.items()
            if can(role, app.view_functions[endpoint].__dict__["required_permission"])
        }


@pytest.mark.parametrize("role", list(Role), ids=lambda role: role.value)
def test_the_navigation_links_exactly_the_sections_the_role_may_open(
    app: Flask, role: Role
) -> None:
    browser = login_as(app, role)
    home = browser.get("/")
    assert home.status_code == 200
    links = nav_links(home.get_data(as_text=True))
    expected = allowed_sections(app, role)
    assert dict(links) == expected, links
    assert len(links) == len(expected)  # no section linked twice
    for label, href in links:
        opened = browser.get(href)
        assert opened.status_code == 200, (label, opened.status_code)
        # the page opened keeps the same navigation
        assert nav_links(opened.get_data(as_text=True)) == links, label
    with app.test_request_context():
        hidden = {label: url_for(e) for label, e in SECTIONS.items() if label not in expected}
    for label, href in hidden.items():
        assert browser.get(href).status_code == 403, label


# An administrator's header, in order: the pages it shares with other roles, then its own, in
# its « Administration » menu (one line at 1280 px; tests/e2e/test_browser_admin_nav.py).
ADMIN_HEADER = (
    "CGV",
    "Factures",
    "Catalogue",
    "Utilisateurs",
    "Jetons d'API",
    "Webhooks",
    "Cachets en attente",
    "Travaux en échec",
)


def test_an_administrator_has_no_link_to_the_pages_its_role_cannot_open(app: Flask) -> None:
    admin = login_as(app, Role.ADMIN)
    labels = [label for label, _ in nav_links(admin.get("/").get_data(as_text=True))]
    assert labels == list(ADMIN_HEADER)
    for page in ("/clients/", "/contrats/"):
        refused = admin.get(page)
        assert refused.status_code == 403
        assert "Votre rôle ne permet pas cette action." in refused.get_data(as_text=True)
