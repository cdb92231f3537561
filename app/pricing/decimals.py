"""Reading the numbers French users type, and counting decimal places."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation


def parse_decimal(raw: str) -> Decimal | None:
    """Accept what French users type: '1 234,50', '1234.5', and what our pages print:
    '−100,00' (the minus sign, U+2212, copied from a document). None when it is not a number."""
    cleaned = raw.strip().replace("\u202f", "").replace("\u00a0", "").replace(" ", "")
    cleaned = cleaned.replace(",", ".").replace("\u2212", "-")
    if not cleaned:
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def decimal_places(value: Decimal) -> int:
    """How many decimals ``value`` needs: 2 for 1.25 and 1.250, 0 for 100 and 1E+2."""
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0
