"""What people meet on a 390 × 844 phone (and a laptop), found by walking the product in
Chromium: the forms (new client, a contract's "send for signature", a one-off invoice, a CGV
version, the catalogue) stay inside the screen; the header's links are big enough for a
thumb; a checkbox field is a row one taps by its sentence, and no checkbox or radio is the
browser's 13 px; an invoice page that mailed nothing says why and what to do; on a laptop the
quote form's choices are read whole."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, Page, expect

from app.auth.models import Role
from app.contracts.printing import Countersigner
from tests.e2e.screens import Screen, outside_the_loop
from tests.e2e.signin import sign_in
from tests.factories.invoices import make_invoice
from tests.factories.people import make_user
from tests.factories.sales import (
    make_clause,
    make_client,
    make_contract,
    make_product,
    make_quote,
    publish_short_cgv,
)

if TYPE_CHECKING:  # annotations only: conftest modules are pytest's to import
    from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

PHONE = Screen(390, 844)
LAPTOP = Screen(1280, 800)
THUMB_PX = 44  # the smallest target a thumb hits reliably (Apple's and Material's guidance)


def _contract_to_send(app: Flask) -> int:
    """A contract, generated with a countersigner: the send form then has both
    selects (order of signatures, reminders) and the longest button."""
    publish_short_cgv(app)
    client_id = make_client(app, signer_email="jeanne.martin-dupont@boulangerie-exemple.fr")
    quote_id = make_quote(app, client_id)
    vendor = Countersigner(name="Claire Commerciale", email="claire.commerciale@editeur.example")
    return make_contract(app, quote_id, vendor)


def _signed_in(new_context: Callable[..., BrowserContext], email: str, screen: Screen) -> Page:
    page = new_context(viewport=screen.viewport).new_page()
    sign_in(page, email)
    page.wait_for_url("**/")
    return page


def _sales_on_a_phone(app: Flask, new_context: Callable[..., BrowserContext]) -> Page:
    return _signed_in(new_context, make_user(app, Role.SALES), PHONE)


def _overflowing(page: Page) -> list[str]:
    """The elements whose right edge passes the screen (outside the tables' own scroll areas),
    and the page itself if it scrolls sideways: a visually hidden label in a table cell once
    escaped its scroll area and widened the whole page, though no element listed here did."""
    found: list[str] = page.evaluate(
        """() => Array.from(document.querySelectorAll('body *'))
            .filter(el => !el.closest('.table-scroll'))
            .filter(el => el.getBoundingClientRect().right > window.innerWidth + 0.5)
            .map(el => el.tagName + (el.id ? '#' + el.id : ''))
            .concat(document.documentElement.scrollWidth > window.innerWidth
                ? ['page ' + document.documentElement.scrollWidth + ' px wide'] : [])"""
    )
    return found


def test_the_sales_forms_fit_a_phone(
    app: Flask, live_server: LiveServer, new_context: Callable[..., BrowserContext]
) -> None:
    contract_id = outside_the_loop(_contract_to_send, app)
    page = _sales_on_a_phone(app, new_context)

    for path in ("/clients/nouveau", f"/contrats/{contract_id}", "/factures/nouvelle"):
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        assert _overflowing(page) == [], path
    # the send form is there, whole, on the contract's page
    page.goto(f"/contrats/{contract_id}")
    send = page.locator("#send").bounding_box()
    assert send is not None and send["x"] + send["width"] <= PHONE.width


def test_the_header_is_made_for_a_thumb(
    app: Flask, live_server: LiveServer, new_context: Callable[..., BrowserContext]
) -> None:
    page = _sales_on_a_phone(app, new_context)
    targets = page.locator(".topbar nav a, .logout button")
    assert targets.count() >= 5
    for index in range(targets.count()):
        box = targets.nth(index).bounding_box()
        assert box is not None and box["height"] >= THUMB_PX, targets.nth(index).inner_text()


def test_a_checkbox_field_is_a_row_to_tap(
    app: Flask, live_server: LiveServer, new_context: Callable[..., BrowserContext]
) -> None:
    client_id = outside_the_loop(make_client, app)
    page = _sales_on_a_phone(app, new_context)
    page.goto(f"/devis/nouveau/{client_id}")

    box = page.locator("#tacit_renewal").bounding_box()
    label = page.locator("label[for=tacit_renewal]").bounding_box()
    assert box is not None and label is not None
    assert box["height"] >= 20 and box["width"] >= 20
    # the box on its sentence's row, before it (not alone under it, centred in the column)
    assert label["y"] <= box["y"] and box["y"] + box["height"] <= label["y"] + label["height"]
    assert box["x"] <= label["x"] + 1
    # tapping the sentence ticks the box
    page.get_by_text("Reconduction tacite").click()
    assert not page.locator("#tacit_renewal").is_checked()


def test_an_invoice_mailed_to_nobody_says_what_to_do(
    app: Flask, live_server: LiveServer, new_context: Callable[..., BrowserContext]
) -> None:
    def _issued() -> tuple[int, int]:
        client_id = make_client(app)  # no billing contact
        return client_id, make_invoice(app, client_id)

    client_id, invoice_id = outside_the_loop(_issued)
    page = _sales_on_a_phone(app, new_context)
    page.goto(f"/factures/{invoice_id}")

    said = page.locator("#mail-none")
    expect(said).to_contain_text("aucun contact de facturation actif")
    # the PDF is archived: "not archived yet" is no longer a possible reason
    expect(said).not_to_contain_text("pas encore archivé")
    said.get_by_role("link", name="ajoutez un contact de facturation").click()
    page.wait_for_url(f"**/clients/{client_id}/facturation")


# Room a select needs besides its text: Chromium draws its arrow in about 20 px.
SELECT_ARROW_PX = 20


def test_the_quote_lines_choices_are_read_whole_on_a_laptop(
    app: Flask, live_server: LiveServer, new_context: Callable[..., BrowserContext]
) -> None:
    client_id = outside_the_loop(make_client, app)
    page = _signed_in(new_context, make_user(app, Role.SALES), LAPTOP)
    page.goto(f"/devis/nouveau/{client_id}")

    cut: list[str] = page.evaluate(
        """(arrow) => Array.from(document.querySelectorAll(
              '#quote-lines tbody tr:first-child select'
            ))
            .filter(select => {
              const style = getComputedStyle(select);
              const pen = document.createElement('canvas').getContext('2d');
              pen.font = style.font;
              const widths = Array.from(select.options, o => pen.measureText(o.text).width);
              const widest = Math.max(...widths);
              const room = select.clientWidth - parseFloat(style.paddingLeft)
                - parseFloat(style.paddingRight) - arrow;
              return widest > room;
            })
            .map(select => select.name)""",
        SELECT_ARROW_PX,
    )
    assert cut == []


@pytest.mark.parametrize(
    ("role", "path"),
    [
        (Role.LEGAL, "/cgv/nouvelle"),
        (Role.ADMIN, "/devis/catalogue"),
        # a row per other user, each with its role select and its visually hidden label
        (Role.ADMIN, "/admin/utilisateurs"),
        (Role.ADMIN, "/admin/jetons"),
    ],
)
def test_the_back_office_pages_fit_a_phone(
    app: Flask,
    live_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    role: Role,
    path: str,
) -> None:
    outside_the_loop(make_product, app)
    outside_the_loop(make_user, app, Role.SALES)
    email = make_user(app, role)
    for screen in (PHONE, LAPTOP):
        page = _signed_in(new_context, email, screen)
        response = page.goto(path)
        assert response is not None and response.status == 200
        assert _overflowing(page) == [], f"{path} at {screen.width} px"


def test_checkboxes_and_radios_are_big_enough_and_beside_their_label(
    app: Flask, live_server: LiveServer, new_context: Callable[..., BrowserContext]
) -> None:
    client_id = outside_the_loop(make_client, app)
    sales = _sales_on_a_phone(app, new_context)
    legal = _signed_in(new_context, make_user(app, Role.LEGAL), PHONE)
    for page, path in ((sales, f"/clients/{client_id}/facturation"), (legal, "/cgv/nouvelle")):
        page.goto(path)
        boxes = page.locator("main input[type=checkbox], main input[type=radio]")
        assert boxes.count() >= 2, path
        for index in range(boxes.count()):
            box = boxes.nth(index).bounding_box()
            assert box is not None, path
            # at least 20 px to aim at, and not stretched across the column
            assert 20 <= box["width"] <= 40 and box["height"] >= 20, (path, index, box)


def test_the_contract_generation_form_is_a_column_like_every_form(
    app: Flask, live_server: LiveServer, new_context: Callable[..., BrowserContext]
) -> None:
    """It once sat in the quote page's row of buttons: its text box shrank to half the column,
    its print preview to a sliver beside the button, each clause's box above its title."""
    outside_the_loop(publish_short_cgv, app)
    outside_the_loop(make_clause, app)
    quote_id = outside_the_loop(make_quote, app, outside_the_loop(make_client, app))
    email = make_user(app, Role.SALES)
    for screen in (PHONE, LAPTOP):
        page = _signed_in(new_context, email, screen)
        page.goto(f"/devis/{quote_id}")
        expect(page.get_by_role("heading", name="Générer le contrat")).to_be_visible()
        form = page.locator("#generate-form").bounding_box()
        assert form is not None
        for selector in ("#free_text", "#free_text-preview", "#signer-fields"):
            box = page.locator(selector).bounding_box()
            assert box is not None, selector
            assert box["width"] >= 0.95 * form["width"], (selector, screen.width, box, form)
        clause = page.locator("#generate-form input[name=clause]").first.bounding_box()
        title = page.locator("#generate-form label.choice span").first.bounding_box()
        assert clause is not None and title is not None
        # the box on the title's row, before it
        assert clause["x"] < title["x"] and abs(clause["y"] - title["y"]) < title["height"]
        assert _overflowing(page) == [], f"quote page at {screen.width} px"
