"""On a 390 px phone the dashboard's search box reads its placeholder whole (it was cut off
at « Client, n° de devis ou de co… »); the full wording stays in the field's label."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext

from app.auth.models import Role
from tests.e2e.screens import Screen
from tests.e2e.signin import sign_in
from tests.factories.people import make_user

if TYPE_CHECKING:  # annotations only: conftest modules are pytest's to import
    from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

PHONE = Screen(390, 844)

# The placeholder's width in the field's own font (a canvas measures it: the browser does
# not lay out a placeholder in scrollWidth everywhere), against the room inside the padding.
_FIT = """input => {
    const style = getComputedStyle(input);
    const context = document.createElement("canvas").getContext("2d");
    context.font = style.font;
    const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    return {
        text: context.measureText(input.placeholder).width,
        room: room,
        scrollWidth: input.scrollWidth,
        clientWidth: input.clientWidth,
    };
}"""


def test_the_search_placeholder_fits_a_phone(
    app: Flask, live_server: LiveServer, new_context: Callable[..., BrowserContext]
) -> None:
    page = new_context(viewport=PHONE.viewport).new_page()
    sign_in(page, make_user(app, Role.SALES))
    page.wait_for_url("**/")

    search = page.locator("form.search input#q")
    assert search.get_attribute("placeholder")
    fit = search.evaluate(_FIT)
    assert fit["scrollWidth"] <= fit["clientWidth"], fit
    assert fit["text"] <= fit["room"], fit
    # The whole wording is still said, to a screen reader too.
    label = page.locator("label[for=q]").inner_text()
    assert label == "Rechercher un client, un devis ou un contrat"
