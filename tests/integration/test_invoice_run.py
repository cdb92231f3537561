"""`paraphe invoices run --period`: every invoice due, once; setup fees per schedule."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from facturx import get_facturx_xml_from_pdf
from flask import Flask
from sqlalchemy import select

from app.db import transaction
from app.documents.models import Document, DocumentKind
from app.invoices.models import BillingFrequency, Invoice
from app.pricing.lines import LineInput
from tests import en16931
from tests.factories import (
    count,
    plan_of,
    publish_short_cgv,
    runtime,
    signed_contract,
)

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _signed(app: Flask) -> int:
    return signed_contract(app, publish=False)  # each test publishes the CGV once


def test_run_bills_each_plan_once_with_setup_fee_schedule(app: Flask) -> None:
    publish_short_cgv(app)
    monthly_contract, annual_contract = _signed(app), _signed(app)
    setup = LineInput(
        "Frais de mise en service (50 %)", Decimal("1"), Decimal("750"), Decimal("20")
    )
    with transaction(runtime(app).session_factory) as session:
        plan_of(
            session,
            monthly_contract,
            start_date=date(2026, 12, 1),
            now=NOW,
            lines=[LineInput("Abonnement mensuel", Decimal("1"), Decimal("100"), Decimal("20"))],
            setup_fees=[(setup, "2026-12"), (setup, "2027-03")],
            actor="t",
        )
        plan_of(
            session,
            annual_contract,
            frequency=BillingFrequency.ANNUAL,
            start_date=date(2027, 1, 1),
            now=NOW,
            actor="t",
        )
    runner = app.test_cli_runner()
    first = runner.invoke(args=["invoices", "run", "--period", "2026-12"])
    assert first.exit_code == 0, first.output
    assert "1\u00a0facture émise" in first.output and "1 sans échéance" in first.output
    assert "Facturation 2026-12" in first.output  # the progress bar's label
    # The run issues and enqueues; the PDFs are the workers' (here inline, at once).
    assert "1 PDF en préparation par les workers" in first.output

    again = runner.invoke(args=["invoices", "run", "--period", "2026-12"])
    assert again.exit_code == 0, again.output
    assert "0\u00a0facture émise, 1\u00a0déjà facturée" in again.output
    assert count(app, Invoice) == 1

    january = runner.invoke(args=["invoices", "run", "--period", "2027-01", "--wait"])
    assert "2\u00a0factures émises" in january.output, january.output
    assert "Production des PDF" in january.output  # --wait follows the workers
    assert "2\u00a0PDF produits et archivés." in january.output and january.exit_code == 0
    with runtime(app).session_factory() as session:
        invoices = session.scalars(select(Invoice).order_by(Invoice.number)).all()
        december, jan_monthly, jan_annual = invoices
        assert december.number.startswith("FAC-20") and december.period == "2026-12"
        # monthly 100 € + first half of the setup fee 750 €, billed in advance
        assert december.total_excl_vat == Decimal("850.00")
        assert jan_monthly.total_excl_vat == Decimal("100.00")
        # the annual plan: the quote's 12 × 100 € for the year starting in January
        assert jan_annual.total_excl_vat == Decimal("1200.00")
        assert "du 1er janvier 2027 au 31 décembre 2027" in jan_annual.lines[0].designation
        archived_pdfs = {
            d.reference: runtime(app).store.get(d.sha256)
            for d in session.scalars(select(Document).where(Document.kind == DocumentKind.INVOICE))
        }
        assert set(archived_pdfs) == {i.number for i in invoices}
    # What was archived passes the EN 16931 business rules, setup fee and annual period included.
    for number, pdf in archived_pdfs.items():
        _, xml = get_facturx_xml_from_pdf(pdf, check_xsd=True)
        assert not en16931.check(xml).rules_broken, (number, en16931.check(xml).violations)

    bad = runner.invoke(args=["invoices", "run", "--period", "2026-13"])
    assert bad.exit_code == 2
    assert "Période '2026-13' invalide : attendu AAAA-MM (ex. 2026-12)." in bad.output
