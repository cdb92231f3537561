"""Reading what a browser sees (field errors, CSRF tokens, links in the outbox) for the
bad-input and security tests; the data builders are in `tests.factories`."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from html import unescape
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import csrf_from
from tests.factories import runtime

# --- reading what a browser sees ----------------------------------------------------------

_FIELD_ERROR = re.compile(r'<p class="field-error" id="([^"]+)-error">(.*?)</p>', re.S)


def field_errors(html: str) -> dict[str, list[str]]:
    """Messages shown under each field of a form rendered with _field.html, unescaped."""
    errors: dict[str, list[str]] = {}
    for field, message in _FIELD_ERROR.findall(html):
        errors.setdefault(field, []).append(unescape(message))
    return errors


_CELL = re.compile(r"<td[^>]*>(?:(?!</td>).)*</td>", re.S)


def line_cell_errors(html: str) -> dict[str, list[str]]:
    """Messages shown in the quote-line table cells, keyed by the input id (lines-0-quantity)."""
    errors: dict[str, list[str]] = {}
    for cell in _CELL.findall(html):
        ident = re.search(r'id="(lines-\d+-[a-z_]+)"', cell)
        messages = re.findall(r'<p class="field-error">(.*?)</p>', cell, re.S)
        if ident and messages:
            assert cell.startswith('<td class="has-error"'), cell[:200]
            errors[ident.group(1)] = [unescape(m) for m in messages]
    return errors


def csrf_of_session(client: FlaskClient) -> str:
    """A CSRF token tied to the client's session, from a page every visitor can open."""
    return csrf_from(client.get("/connexion").get_data(as_text=True))


def logged_in_csrf(client: FlaskClient) -> str:
    """A CSRF token for a logged-in user, from the logout form of the home page."""
    page = client.get("/")
    assert page.status_code == 200, page.status_code
    return csrf_from(page.get_data(as_text=True))


def iter_outbox_links(app: Flask) -> Iterator[str]:
    from tests.integration.helpers import body_text, outbox_messages, signing_link

    for message in outbox_messages(runtime(app).settings.outbox_dir):
        if "ouvrez ce lien personnel" in body_text(message):  # invitations only
            yield signing_link(message)


ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgresql")
"""The backend the conftest uses for this run (some bugs only show on one of them)."""


def check_each(cases: list[Any], check: Any) -> None:
    """Run `check(*case)` for every case (cheap requests sharing one setup) and report every
    failing case at once, not only the first."""
    failures: list[str] = []
    for case in cases:
        args = case if isinstance(case, tuple) else (case,)
        try:
            check(*args)
        except AssertionError as exc:
            failures.append(f"- {args!r}: {exc}")
    assert not failures, f"{len(failures)}/{len(cases)} cases failed:\n" + "\n".join(failures)
