"""French formatting for documents: numbers, money, percentages, dates, typography.

The one place where numbers, amounts, units, plurals and dates are written in French, for
documents (the filters of ``app.rendering.jinja``) and pages (the filters registered by
``create_app``). Built on Babel (CLDR data) wherever Babel does the job. Conventions:

- thousands are grouped with a narrow no-break space (U+202F), decimals use a comma;
- a no-break space (U+00A0) separates a number from its unit ("€", "%");
- display rounding is half-up (the commercial rule, the one ``app.pricing.totals`` uses), and
  only happens when a caller asks for fewer decimals than the value has: amounts reaching a
  document are expected to be rounded already, so formatting them never changes them;
- dates are shown in Europe/Paris; datetimes must be timezone-aware (UTC in storage).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.numbers import format_decimal as babel_format_decimal
from babel.units import format_unit

from app.clock import PARIS

LOCALE = Locale.parse("fr_FR")
"""French as CLDR writes it (via Babel): separators, month names, plural rules, unit names."""

NBSP = "\u00a0"
"""No-break space: before ":" and "€"/"%", inside « guillemets »."""
NNBSP = "\u202f"
"""Narrow no-break space: thousands separator, before ";", "!" and "?"."""
MINUS = "\u2212"
"""Minus sign: a negative number is written "−120,00 €", never with the hyphen "-"."""


def _as_decimal(value: Decimal | int) -> Decimal:
    # bool is an int: refuse it, like float, rather than print "1" for True.
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"un Decimal est attendu, pas {type(value).__name__}")
    result = Decimal(value)
    if not result.is_finite():
        raise ValueError(f"nombre non fini : {value}")
    return result


def _rounded(value: Decimal | int, places: int | None) -> tuple[Decimal, str]:
    """The value as it will be shown, and the CLDR pattern that shows it. Rounding is done
    here, half-up (the commercial rule): Babel would round half-even."""
    number = _as_decimal(value)
    if places is None:
        number = number.normalize()
        decimals = max(-number.as_tuple().exponent, 0)  # type: ignore[operator]
        pattern = "#,##0" + ("." + "#" * decimals if decimals else "")
    else:
        if places < 0:
            raise ValueError("places doit être positif ou nul")
        number = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        pattern = "#,##0" + ("." + "0" * places if places else "")
    if number.is_zero():
        number = abs(number)  # Decimal("-0.00") prints as "0,00"
    return number, pattern


def format_decimal(value: Decimal | int, places: int | None = None) -> str:
    """``Decimal("1234.5")`` -> ``"1 234,5"``; with ``places=2`` -> ``"1 234,50"``;
    ``Decimal("-120")`` -> ``"−120"`` (the minus sign U+2212, as French typography writes it;
    CLDR's French gives the hyphen). For people only: the XML and the API write their own.

    ``places=None`` shows the value without trailing zeros (quantities, rates); an integer
    ``places`` pads or rounds (half-up) to that many decimals.
    """
    number, pattern = _rounded(value, places)
    return _with_minus(
        str(babel_format_decimal(number, format=pattern, locale=LOCALE, decimal_quantization=False))
    )


def _with_minus(written: str) -> str:
    return MINUS + written[1:] if written.startswith("-") else written


def format_amount(value: Decimal | int) -> str:
    """``Decimal("1234.56")`` -> ``"1 234,56 €"`` (U+202F thousands, U+00A0 before €);
    ``Decimal("-120")`` -> ``"−120,00 €"`` (U+2212 minus sign)."""
    return f"{format_decimal(value, 2)}{NBSP}€"


def format_amount_excl_vat(value: Decimal | int) -> str:
    """``Decimal("59")`` -> ``"59,00 € HT"``."""
    return f"{format_amount(value)}{NBSP}HT"


def format_amount_incl_vat(value: Decimal | int) -> str:
    """``Decimal("70.8")`` -> ``"70,80 € TTC"``."""
    return f"{format_amount(value)}{NBSP}TTC"


def format_percent(value: Decimal | int) -> str:
    """``Decimal("20")`` -> ``"20 %"``, ``Decimal("5.5")`` -> ``"5,5 %"`` (U+00A0 before %)."""
    return f"{format_decimal(value)}{NBSP}%"


def is_plural(value: Decimal | int) -> bool:
    """Whether French writes the noun after `value` in the plural, by CLDR's rule: singular
    below 2 ("0 jour", "1,5 jour"), plural from 2 on ("2 jours")."""
    return bool(LOCALE.plural_form(abs(_as_decimal(value))) != "one")


def plural(value: Decimal | int, singular: str, plural_form: str) -> str:
    """``plural(3, "relance", "relances")`` -> ``"3 relances"``."""
    word = plural_form if is_plural(value) else singular
    return f"{format_decimal(value)}{NBSP}{word}"


def upper_first(text: str) -> str:
    """The first letter in capital, the rest as written: ``"taux de la Banque centrale"`` ->
    ``"Taux de la Banque centrale"`` (``str.capitalize`` would lower every other letter)."""
    return text[:1].upper() + text[1:]


_VOWELS = frozenset("aeiouàâäéèêëîïôöùûüœæ")


def de(name: str) -> str:
    """The preposition "de" before a name, elided before a vowel: ``"Élodie Dupré"`` ->
    ``"d'Élodie Dupré"``, ``"Anna"`` -> ``"d'Anna"``, ``"Paul"`` -> ``"de Paul"``.

    Conservative: only a vowel letter elides (accented or not); a "h" never does, mute or
    aspirated ("de Hugo", "de Hélène"), and a "y" only before a consonant ("d'Yves", but
    "de Yann"), where it is read as a vowel."""
    text = name.strip()
    first, second = text[:1].casefold(), text[1:2].casefold()
    if first in _VOWELS or (first == "y" and second.isalpha() and second not in _VOWELS):
        return f"d'{text}"
    return f"de {text}"


def no_break(identifier: str) -> str:
    """An identifier kept on one line, whatever the width left: its spaces made no-break
    spaces (« RCS Paris 732 829 320 » never ends a line with « 732 829 »)."""
    return NBSP.join(identifier.split())


def grouped_siren(siren: str) -> str:
    """A SIREN as printed: three groups of three digits held by no-break spaces
    (« 732 829 320 »), as in the RCS mention; anything else (a foreign registration
    number) only kept on one line."""
    digits = "".join(siren.split())
    if len(digits) != 9 or not digits.isdigit():
        return no_break(siren)
    return NBSP.join(digits[i : i + 3] for i in range(0, 9, 3))


_ARTICLE_TITLE = re.compile(
    r"^\s*(?:article\s+)?(?P<number>\d+(?:\.\d+)*)\.?\s*(?:[:\-–—)]\s*)?(?P<title>.*?)\s*$",
    re.IGNORECASE | re.DOTALL,
)


def article_reference(title: str) -> str:
    """How a sentence cites a CGV article by its heading, without doubling "article" or the
    number: ``"Article 4. Prix et paiement"`` -> ``"article 4 (Prix et paiement)"``,
    ``"7.3"`` -> ``"article 7.3"``; a heading without a number is quoted:
    ``"Pénalités"`` -> ``"article « Pénalités »"``. The caller writes "l'" or "à l'"."""
    match = _ARTICLE_TITLE.match(title)
    if match is None:
        return f"article «{NBSP}{title.strip()}{NBSP}»"
    number, rest = match["number"], match["title"]
    return f"article {number} ({rest})" if rest else f"article {number}"


# Units whose French name and plural CLDR knows (Babel's `format_unit`): "3,5 jours".
_CLDR_UNITS = {
    "jour": "duration-day",
    "jours": "duration-day",
    "heure": "duration-hour",
    "heures": "duration-hour",
    "semaine": "duration-week",
    "semaines": "duration-week",
    "mois": "duration-month",
    "an": "duration-year",
    "ans": "duration-year",
    "année": "duration-year",
    "années": "duration-year",
    "minute": "duration-minute",
    "minutes": "duration-minute",
}


def format_quantity(value: Decimal | int, unit: str = "") -> str:
    """A quantity and its unit as typed on a quote or invoice line: ``(3.5, "jour")`` ->
    ``"3,5 jours"``, ``(1, "jour")`` -> ``"1 jour"``, ``(12, "licence")`` -> ``"12 licences"``.

    Time units are named by CLDR. Any other unit is free text: a single lowercase word takes
    the regular French plural ("-s", not after s, x or z); anything else ("u.", "Go", "jour
    homme") is kept as typed rather than guessed wrong."""
    number, pattern = _rounded(value, None)
    key = unit.strip()
    if not key:
        return format_decimal(number)
    cldr = _CLDR_UNITS.get(key.lower())
    if cldr is not None:
        return _with_minus(
            str(format_unit(number, cldr, length="long", format=pattern, locale=LOCALE))
        )
    if is_plural(number) and key.isalpha() and key.islower() and key[-1] not in "sxz":
        key += "s"
    return f"{format_decimal(number)}{NBSP}{key}"


def format_days(value: Decimal | int) -> str:
    """``Decimal("3.5")`` -> ``"3,5 jours"``, ``1`` -> ``"1 jour"``."""
    return format_quantity(value, "jour")


def _paris_date(value: date) -> date:
    if isinstance(value, datetime):
        return _paris(value).date()
    return value


def _paris(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("datetime sans fuseau horaire : stocker en UTC, afficher en Europe/Paris")
    return value.astimezone(PARIS)


def format_date(value: date) -> str:
    """``date(2022, 9, 4)`` -> ``"4 septembre 2022"``; the first day is ``"1er mars 2024"``.

    An aware datetime is first converted to Europe/Paris (a naive one is refused). Month names
    are CLDR's; "1er" is the French ordinal for the first day, which CLDR does not write.
    """
    day = _paris_date(value)
    return _with_first(day, str(babel_format_date(day, "d MMMM y", locale=LOCALE)))


def format_day_month(value: date) -> str:
    """A yearly date, the day and month only: ``date(2026, 3, 15)`` -> ``"15 mars"``,
    ``"1er janvier"`` (an anniversary: a renewal, a fiscal year's end)."""
    day = _paris_date(value)
    return _with_first(day, str(babel_format_date(day, "d MMMM", locale=LOCALE)))


def format_month(value: date) -> str:
    """A month, as a billing period is named: ``date(2026, 12, 1)`` -> ``"décembre 2026"``."""
    return str(babel_format_date(_paris_date(value), "MMMM y", locale=LOCALE))


def _with_first(day: date, text: str) -> str:
    return "1er" + text[1:] if day.day == 1 else text


def format_datetime(value: datetime) -> str:
    """An aware datetime shown in Europe/Paris: ``"4 septembre 2022 à 14 h 05"``.

    The spaces around "h" are no-break spaces so a time never splits across lines.
    """
    local = _paris(value)
    return f"{format_date(local.date())} à {local.hour}{NBSP}h{NBSP}{local.minute:02d}"


# --- Typography -------------------------------------------------------------------------

_NO_BREAK = frozenset({NBSP, NNBSP, "\u2007", "\u2060"})
_BREAKABLE_SPACE = frozenset({" ", "\t"})
_HIGH_PUNCTUATION = {";": NNBSP, "!": NNBSP, "?": NNBSP, ":": NBSP}
_OPENERS_BEFORE_QUOTE = frozenset("([{—–")
_AFTER_CLOSING_QUOTE = frozenset(".,;:!?)]}…—–")
_BEFORE_HIGH_PUNCTUATION = frozenset(")]»")
_AFTER_HIGH_PUNCTUATION = frozenset(";:!?.,\"'»)]")


def typographie(text: str) -> str:
    """French typography on plain text, idempotent (applying it twice changes nothing).

    - a no-break space before ":" and a narrow no-break space before ";", "!" and "?": an
      ordinary space there is replaced; one is inserted after a word ("Quoi?" -> "Quoi ?")
      only when the mark ends the word, so "https://", "14:05" or "?id=3" are left alone;
    - straight double quotes that clearly open and close a phrase become « guillemets »
      with no-break spaces inside; a lone or ambiguous quote (``src="x"``) stays as typed;
    - existing guillemets get no-break spaces inside.
    """
    return typographie_segments([(text, True)])[0]


def typographie_segments(segments: Sequence[tuple[str, bool]]) -> list[str]:
    """Typography over consecutive pieces of one run of text.

    Each piece is ``(text, editable)``. Non-editable pieces (inline code, line breaks) give
    context, so a quote opened in one piece can close in another, but are never changed.
    Used by the Markdown renderer, whose text arrives split around bold, links and code.
    """
    chars: list[str] = []
    editable: list[bool] = []
    bounds: list[tuple[int, int]] = []
    for text, is_editable in segments:
        start = len(chars)
        chars.extend(text)
        editable.extend([is_editable] * len(text))
        bounds.append((start, len(chars)))
    out = list(chars)
    size = len(chars)

    def before(i: int) -> str | None:
        return chars[i - 1] if i > 0 else None

    def after(i: int) -> str | None:
        return chars[i + 1] if i + 1 < size else None

    # 1. Pair straight double quotes into guillemets.
    opened: int | None = None
    for i, ch in enumerate(chars):
        if ch != '"' or not editable[i]:
            continue
        prev, nxt = before(i), after(i)
        can_close = (
            prev is not None
            and not prev.isspace()
            and (nxt is None or nxt.isspace() or nxt in _AFTER_CLOSING_QUOTE)
        )
        can_open = (
            (prev is None or prev.isspace() or prev in _OPENERS_BEFORE_QUOTE)
            and nxt is not None
            and not nxt.isspace()
        )
        if opened is not None and can_close:
            out[opened] = f"«{NBSP}"
            out[i] = f"{NBSP}»"
            opened = None
        elif can_open:
            opened = i

    # 2. Spaces inside guillemets typed as such.
    for i, ch in enumerate(chars):
        if not editable[i]:
            continue
        if ch == "«":
            nxt = after(i)
            if nxt in _BREAKABLE_SPACE and editable[i + 1]:
                out[i + 1] = NBSP
            elif nxt is not None and not nxt.isspace() and nxt not in _NO_BREAK:
                out[i] = f"«{NBSP}"
        elif ch == "»":
            prev = before(i)
            if prev in _BREAKABLE_SPACE and editable[i - 1]:
                out[i - 1] = NBSP
            elif prev is not None and not prev.isspace() and prev not in _NO_BREAK:
                out[i] = f"{NBSP}»"

    # 3. Spaces before high punctuation.
    for i, ch in enumerate(chars):
        space = _HIGH_PUNCTUATION.get(ch)
        if space is None or not editable[i]:
            continue
        prev, nxt = before(i), after(i)
        if prev in _BREAKABLE_SPACE:
            if editable[i - 1] and out[i - 1] == prev:
                out[i - 1] = space
        elif (
            prev is not None
            and (prev.isalnum() or prev in _BEFORE_HIGH_PUNCTUATION)
            and (nxt is None or nxt.isspace() or nxt in _AFTER_HIGH_PUNCTUATION)
        ):
            out[i] = space + ch

    return ["".join(out[start:end]) for start, end in bounds]
