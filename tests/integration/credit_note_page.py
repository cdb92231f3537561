"""The credit-note form of an invoice's page, as a salesperson fills it in."""

from __future__ import annotations

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.integration.helpers import post_form


def submit_credit_note(
    browser: FlaskClient, invoice_id: int, fields: dict[str, str]
) -> TestResponse:
    """The avoir form of the invoice's page sent with ``fields`` (its CSRF token read from the
    page, as a browser would); the answer (a 302 to the invoice when the avoir is issued)."""
    return post_form(
        browser, f"/factures/{invoice_id}", fields, url=f"/factures/{invoice_id}/avoir"
    )
