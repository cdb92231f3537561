"""The invoicing pages: invoices and credit notes (``invoice_pages``), billing plans,
Syntec indices and reference rates (``plan_pages``), all on one blueprint."""

from __future__ import annotations

# Importing the page modules registers their routes on the blueprint.
from app.invoices import invoice_pages, plan_pages
from app.invoices.blueprint import bp

__all__ = ["bp", "invoice_pages", "plan_pages"]
