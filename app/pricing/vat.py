"""The VAT rates a line may carry: defined here once (checks, form choices, messages)."""

from __future__ import annotations

from decimal import Decimal
from enum import Enum

from app.messages import msg


class VatRate(Enum):
    """French VAT rates (CGI art. 278 to 281 nonies), and 0 % (exempt, reverse charge)."""

    NORMAL = Decimal("20")
    INTERMEDIATE = Decimal("10")
    REDUCED = Decimal("5.5")
    SUPER_REDUCED = Decimal("2.1")
    ZERO = Decimal("0")

    @property
    def label(self) -> str:
        """« 5,5 % », as the rate selectors show it."""
        return f"{self.value:f}".replace(".", ",") + " %"


ALLOWED_VAT_RATES = tuple(rate.value for rate in VatRate)
"""Decimal equality ignores trailing zeros: ``Decimal("20.00") in ALLOWED_VAT_RATES``."""

VAT_RATE_PROBLEM = msg("Taux de TVA non autorisé (20, 10, 5,5, 2,1 ou 0 %).")


def is_allowed_vat_rate(rate: Decimal) -> bool:
    return rate in ALLOWED_VAT_RATES
