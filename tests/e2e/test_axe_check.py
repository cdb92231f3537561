"""The accessibility check itself: it must see a real violation, or a green browser test proves
nothing about accessibility."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.e2e.axe import assert_no_serious_violations, violations

pytestmark = pytest.mark.e2e


def test_a_button_without_a_name_and_an_image_without_text_are_reported(page: Page) -> None:
    page.set_content(
        '<html lang="fr"><head><title>t</title></head><body><main>'
        '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
        "<button></button></main></body></html>"
    )
    rules = {v.rule for v in violations(page)}
    assert {"image-alt", "button-name"} <= rules
    with pytest.raises(AssertionError, match="button-name"):
        assert_no_serious_violations(page)


def test_a_plain_accessible_page_passes(page: Page) -> None:
    page.set_content(
        '<html lang="fr"><head><title>Accueil</title></head><body><main><h1>Bonjour</h1>'
        '<button type="button">Valider</button></main></body></html>'
    )
    assert_no_serious_violations(page)
