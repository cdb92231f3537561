"""The sales dashboard: what needs someone now, read from the features it sits above
(signatures, contracts, invoices, quotes, clients, the journal). No feature imports it."""
