"""The sentences a refusal is explained with: French, and translatable at the edge.

A message is written once, in French, with `msg()`: `msg("Entier de {minimum} à {maximum}.",
minimum=1, maximum=50)`. What it gives is the French sentence itself (a `str`: the domain,
the web pages and the commands print it as they always did), which also remembers the
template and the values it was made from. The API's edge (`app.http_errors`) can then say it
in English from the template, `app/locale/en/LC_MESSAGES/messages.po`, with the same values:
never by reworking the rendered French.

`msg` is also the marker Babel's extractor looks for (`tests/unit/test_message_catalogue.py`
checks that every message marked in the code has its English). No Flask, no Babel here: the
domain raises these whatever calls it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class Message(str):
    """A French sentence (the `str` itself) with the template and values it came from."""

    template: str
    params: Mapping[str, Any]

    def __new__(cls, template: str, params: Mapping[str, Any]) -> Message:
        # Without values the template is the sentence: its braces, if any, are plain text.
        text = template.format(**params) if params else template
        message = super().__new__(cls, text)
        message.template = template
        message.params = dict(params)
        return message

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled or copied (a job's failure, a copied exception) as what it is made of.
        return (Message, (self.template, dict(self.params)))

    def render(self, template: str) -> str:
        """Another language's template (the translation of `self.template`), given the same
        values."""
        return template.format(**self.params) if self.params else template


def msg(template: str, /, **params: Any) -> Message:
    """A message to explain a refusal, in French; `{name}` fields take the values given."""
    return Message(template, params)
