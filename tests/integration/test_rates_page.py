"""Dated reference rates entered on the web by admins: listed, never overwritten, bad
input answered field by field; they feed the late-interest computation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import Flask

from app.auth.models import Role
from app.invoices import payments
from app.invoices.models import RateKind, ReferenceRate
from tests.factories import count, login_as, runtime
from tests.integration.fixtures_security import field_errors
from tests.integration.helpers import post_form


def test_admin_enters_rates_once_each_and_late_interest_reads_them(app: Flask) -> None:
    admin = login_as(app, Role.ADMIN)
    saved = post_form(
        admin, "/factures/taux", {"kind": "ecb", "effective_from": "2026-07-01", "rate": "2,15"}
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)
    page = admin.get("/factures/taux").get_data(as_text=True)
    assert "taux BCE" in page and "1er juillet 2026" in page and "2,15\xa0%" in page
    # the flash keeps the label's capitals (« BCE », not « bce ») and a no-break space before %
    assert "Taux BCE de 2,15\xa0% enregistré à partir du 1er juillet 2026." in page

    for data, name in (
        ({"kind": "ecb", "effective_from": "2026-07-01", "rate": "2,40"}, "effective_from"),
        ({"kind": "legal", "effective_from": "2026-07-01", "rate": "beaucoup"}, "rate"),
        ({"kind": "legal", "effective_from": "2026-07-01", "rate": "80"}, "rate"),
        ({"kind": "legal", "effective_from": "", "rate": "3"}, "effective_from"),
        ({"kind": "usury", "effective_from": "2026-07-01", "rate": "3"}, "kind"),
    ):
        response = post_form(admin, "/factures/taux", data)
        assert response.status_code == 422, data
        assert name in field_errors(response.get_data(as_text=True)), data
    assert count(app, ReferenceRate) == 1
    with runtime(app).session_factory() as session:
        assert payments.rate_on(session, RateKind.ECB, date(2026, 11, 1)) == Decimal("2.15")


def test_only_admins_see_the_rates(app: Flask) -> None:
    for role in (Role.SALES, Role.LEGAL, Role.ARCHIVIST):
        assert login_as(app, role).get("/factures/taux").status_code == 403
