"""What a clause may say: size, title, and the whitelisted placeholders filled from the quote."""

from __future__ import annotations

from collections.abc import Mapping

from app.messages import msg
from app.plaintext import control_character_problem

MAX_BODY_BYTES = 100_000
MAX_TITLE = 200

PLACEHOLDERS: Mapping[str, str] = {
    "client_name": "raison sociale du client",
    "client_siren": "SIREN du client",
    "vendor_name": "raison sociale de l'éditeur",
    "quote_number": "numéro du devis",
    "commitment_months": "durée d'engagement en mois",
    "notice_months": "préavis de résiliation en mois",
    "payment_terms_days": "délai de paiement en jours",
    "billing_period": "périodicité de facturation (mensuelle, annuelle)",
    "total_excl_vat": "montant total HT (1 234,56 €)",
    "total_incl_vat": "montant total TTC",
}
"""The only names a clause can use, all plain strings (nothing of Python is reachable)."""

SAMPLE_CONTEXT: Mapping[str, str] = {
    "client_name": "Exemple SAS",
    "client_siren": "552100554",
    "vendor_name": "Éditeur SAS",
    "quote_number": "DEV-2026-0001",
    "commitment_months": "12",
    "notice_months": "3",
    "payment_terms_days": "30",
    "billing_period": "annuelle",
    "total_excl_vat": "1\u202f200,00\u00a0€",
    "total_incl_vat": "1\u202f440,00\u00a0€",
}


def clause_problems(title: str, body: str) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not title.strip():
        problems["title"] = msg("Le titre est obligatoire.")
    elif len(title) > MAX_TITLE:
        problems["title"] = msg("{max_title} caractères au maximum.", max_title=MAX_TITLE)
    elif problem := control_character_problem(title):
        problems["title"] = problem
    if not body.strip():
        problems["body_markdown"] = msg("Le texte de la clause est obligatoire.")
    elif len(body.encode("utf-8")) > MAX_BODY_BYTES:
        problems["body_markdown"] = msg("Une clause ne dépasse pas 100 Ko.")
    elif problem := control_character_problem(body, multiline=True):
        problems["body_markdown"] = problem
    return problems


_MARKDOWN_PUNCTUATION = frozenset("\\`*_{}[]()<>#+-.!|~&")


def markdown_literal(value: str) -> str:
    """``value`` as Markdown that prints exactly ``value`` (a client called ``**X**`` or
    ``[a](b)`` stays text): CommonMark lets any ASCII punctuation be backslash-escaped."""
    return "".join("\\" + c if c in _MARKDOWN_PUNCTUATION else c for c in value)
