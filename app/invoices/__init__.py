"""Invoices and credit notes: gapless numbering, immutability once issued, billing plans."""
