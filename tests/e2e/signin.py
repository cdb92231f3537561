"""Signing in through the real form, as a person does: where most browser tests start."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.factories.people import PASSWORD


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    """Open the sign-in page and submit ``email`` with ``password`` (the factories' own)."""
    page.goto("/connexion")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
