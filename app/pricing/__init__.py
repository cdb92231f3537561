"""Money rules shared by quotes, invoices and credit notes: line input, discounts, the one
rounding rule (``totals``), VAT rates, decimal parsing and line checks (``problems``, one
``LinePolicy`` per kind of document). Flask-free, no SQLAlchemy model: a layer below the
features that bill, above nothing but ``app.plaintext``."""
