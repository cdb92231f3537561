"""English for the API's refusals, from a gettext catalogue whose message ids are the French
sentences themselves (`app.messages.msg` templates): the French stays the one source, read
as it is written, and a sentence without its English simply stays French.

The catalogue is the `.po` file, read once when the application is built (`load_english`)
and compiled in memory into Babel's `Translations`: no compiled `.mo` to build, ship and keep
in step with its `.po`. `tests/unit/test_message_catalogue.py` extracts every `msg()` of the
code with Babel's extractor and checks that each has its English.

Flask-free: `app.http_errors` decides when English is wanted and calls `say`.
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from app.messages import Message

ENGLISH_CATALOGUE = Path(__file__).parent / "locale" / "en" / "LC_MESSAGES" / "messages.po"


def load_english(path: Path = ENGLISH_CATALOGUE) -> Translations:
    """The English catalogue, compiled in memory; fuzzy entries (unreviewed) are left out."""
    with path.open("rb") as po:
        catalog = read_po(po, locale="en")
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def say(text: str, translations: Translations) -> str:
    """`text` in the catalogue's language: a `Message` through its template and values, a plain
    sentence by itself; French when the catalogue does not have it."""
    if isinstance(text, Message):
        return text.said(translations.gettext, "en")
    return translations.gettext(text)
