"""The header of an administrator, who sees the most links: on one line at 1280 px (it once
wrapped to two), and still usable on a 360 px phone (every link reachable, none off screen)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask
from playwright.sync_api import BrowserContext, Page

from app.auth.models import Role
from tests.e2e.screens import LAPTOP, PHONE, Screen
from tests.e2e.signin import sign_in
from tests.factories.people import make_user
from tests.integration.test_navigation import ADMIN_HEADER

if TYPE_CHECKING:  # annotations only: conftest modules are pytest's to import
    from tests.e2e.conftest import LiveServer

# The pages an administrator's header leads to, by their link's name.
ADMIN_LINKS = ADMIN_HEADER


def _admin(app: Flask, new_context: Callable[..., BrowserContext], screen: Screen) -> Page:
    page = new_context(viewport=screen.viewport).new_page()
    sign_in(page, make_user(app, Role.ADMIN))
    page.goto("/factures/")
    return page


def _one_line_height(page: Page) -> float:
    """The height of the header holding one line of its text."""
    return float(
        page.evaluate(
            """() => {
              const bar = document.querySelector('.topbar');
              const style = getComputedStyle(bar);
              const brand = document.querySelector('.brand').getBoundingClientRect().height;
              return brand + parseFloat(style.paddingTop) + parseFloat(style.paddingBottom)
                + parseFloat(style.borderTopWidth) + parseFloat(style.borderBottomWidth);
            }"""
        )
    )


def test_the_admin_header_fits_on_one_line_at_1280_px(
    app: Flask, live_server: LiveServer, new_context: Callable[..., BrowserContext], artefacts: Path
) -> None:
    page = _admin(app, new_context, LAPTOP)
    page.screenshot(path=str(artefacts / "admin-nav-1280.png"))
    bar = page.locator(".topbar").bounding_box()
    assert bar is not None
    assert bar["height"] <= _one_line_height(page) + 1, bar
    # every item of the header on the same row: same vertical centre
    centres = page.evaluate(
        """() => [...document.querySelectorAll(
              '.topbar .brand, .topbar nav > a, .topbar nav summary, .who, .logout button')]
            .map(e => { const r = e.getBoundingClientRect(); return r.top + r.height / 2; })"""
    )
    assert max(centres) - min(centres) <= 4, centres
    for name in ADMIN_LINKS:  # each page still one or two clicks away
        _reach(page, name)
    _open_menu(page, artefacts / "admin-menu-1280.png")


def test_the_admin_header_is_usable_on_a_phone(
    app: Flask, live_server: LiveServer, new_context: Callable[..., BrowserContext], artefacts: Path
) -> None:
    page = _admin(app, new_context, PHONE)
    page.screenshot(path=str(artefacts / "admin-nav-360.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE.width
    for name in ADMIN_LINKS:
        _reach(page, name)
    _open_menu(page, artefacts / "admin-menu-360.png")


def _reach(page: Page, name: str) -> None:
    """Show the header's link `name` (opening its menu if it is in one), check that it is
    whole on screen, and close the menu again."""
    link = page.locator(".topbar nav").get_by_role("link", name=name, exact=True)
    opened = None
    if not link.is_visible():
        opened = page.locator(".topbar nav details").filter(has_text=name)  # a closed menu
        opened.locator("summary").click()
    box = link.bounding_box()
    assert box is not None, name
    width = page.viewport_size["width"] if page.viewport_size else 0
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, (name, box)
    if opened is not None:
        opened.locator("summary").click()


def _open_menu(page: Page, screenshot: Path) -> None:
    """Open the « Administration » menu (screenshot kept), then close it with Escape."""
    menu = page.locator("#admin-menu")
    menu.locator("summary").click()
    page.screenshot(path=str(screenshot), full_page=True)
    page.keyboard.press("Escape")
    assert menu.get_attribute("open") is None
    assert page.get_by_role("link", name="Webhooks", exact=True).count() == 0  # hidden again
