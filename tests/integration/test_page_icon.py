"""Every page names the vendor's logo as its icon, so that browsers do not ask /favicon.ico
(a 404 in every page's console before)."""

from __future__ import annotations

import re

from flask import Flask

from app.auth.models import Role
from tests.factories import login_as

_ICON = re.compile(r'<link rel="icon" href="([^"]+)">')


def test_pages_name_an_icon_that_answers(app: Flask) -> None:
    anonymous = app.test_client()
    staff = login_as(app, Role.SALES)
    for browser, path in ((anonymous, "/connexion"), (staff, "/"), (staff, "/clients/")):
        match = _ICON.search(browser.get(path).get_data(as_text=True))
        assert match, path
        icon = anonymous.get(match[1])
        assert icon.status_code == 200, path
        assert (icon.mimetype or "").startswith("image/"), path
