"""The sentences a refusal is explained with: French, and translatable at the edge.

A message is written once, in French, with `msg()`: `msg("Entier de {minimum} à {maximum}.",
minimum=1, maximum=50)`. What it gives is the French sentence itself (a `str`: the domain,
the web pages and the commands print it as they always did), which also remembers the
template and the values it was made from. The API's edge (`app.http_errors`, through
`app.translation`) can then say it in English from the English template of the catalogue,
with the same values: never by reworking the rendered French.

A value that is itself written in words is given as what it is, so that each language writes
it its own way: a date as `Day(...)` ("1er mars 2027" / "1 March 2027"), a moment as
`Moment(...)`, an amount as `Euros(...)`, a French phrase as another `msg()` (translated
in turn), and a list of them as a tuple (written with ", " between). Other values (numbers,
identifiers, names typed by people) are printed as given.

`msg` is also the marker Babel's extractor looks for (`tests/unit/test_message_catalogue.py`
checks that every message marked in the code has its English). No Flask here: the domain
raises these whatever calls it, and knows nothing of who reads them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from babel.dates import format_date as babel_format_date
from babel.numbers import format_currency

from app.clock import PARIS
from app.rendering.french import format_amount, format_date, format_datetime, format_day_month

Lookup = Callable[[str], str]
"""A language's template for a French one (gettext); French itself is the identity."""


def _french(template: str) -> str:
    return template


class Message(str):
    """A French sentence (the `str` itself) with the template and values it came from."""

    template: str
    params: Mapping[str, Any]

    def __new__(cls, template: str, params: Mapping[str, Any]) -> Message:
        message = super().__new__(cls, _render(template, params, _french, "fr"))
        message.template = template
        message.params = dict(params)
        return message

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled or copied (a job's failure, a copied exception) as what it is made of.
        return (Message, (self.template, dict(self.params)))

    def said(self, lookup: Lookup, language: str) -> str:
        """The sentence in another language: `lookup` gives its template, the values are
        written as that language writes them."""
        return _render(lookup(self.template), self.params, lookup, language)


@dataclass(frozen=True)
class Day:
    """A calendar date, in words: "1er mars 2027" / "1 March 2027"."""

    value: date

    def written(self, language: str) -> str:
        if language == "fr":
            return format_date(self.value)
        return str(babel_format_date(self.value, "d MMMM y", locale="en"))


@dataclass(frozen=True)
class DayOfYear:
    """A yearly date, day and month: "15 mars" / "15 March"."""

    value: date

    def written(self, language: str) -> str:
        if language == "fr":
            return format_day_month(self.value)
        return str(babel_format_date(self.value, "d MMMM", locale="en"))


@dataclass(frozen=True)
class Moment:
    """An instant, shown in Europe/Paris: "4 septembre 2022 à 14 h 05" / "4 September 2022
    at 14:05 (Paris time)"."""

    value: datetime

    def written(self, language: str) -> str:
        if language == "fr":
            return format_datetime(self.value)
        local = self.value.astimezone(PARIS)
        day = babel_format_date(local.date(), "d MMMM y", locale="en")
        return f"{day} at {local:%H:%M} (Paris time)"


@dataclass(frozen=True)
class Euros:
    """An amount in euros: "1 234,56 €" / "€1,234.56"."""

    value: Decimal

    def written(self, language: str) -> str:
        if language == "fr":
            return format_amount(self.value)
        return str(format_currency(self.value, "EUR", locale="en"))


def _render(template: str, params: Mapping[str, Any], lookup: Lookup, language: str) -> str:
    # Without values the template is the sentence: its braces, if any, are plain text.
    if not params:
        return template
    return template.format(**{name: _value(v, lookup, language) for name, v in params.items()})


def _value(value: Any, lookup: Lookup, language: str) -> Any:
    if isinstance(value, Message):
        return value.said(lookup, language)
    if isinstance(value, Day | DayOfYear | Moment | Euros):
        return value.written(language)
    if isinstance(value, tuple):  # a list of things named in the sentence, each said in turn
        return ", ".join(str(_value(item, lookup, language)) for item in value)
    return value


def msg(template: str, /, **params: Any) -> Message:
    """A message to explain a refusal, in French; `{name}` fields take the values given."""
    return Message(template, params)
