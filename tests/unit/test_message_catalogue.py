"""Every refusal the code can explain has its English: the messages are found in the code by
Babel's extractor (the `msg()` marker), cross-checked against the code's syntax tree, and
each must be in the English catalogue, translated (not the French copied), with the same
values. A refusal written without `msg()` would escape all that: the last test finds those."""

from __future__ import annotations

import ast
import copy
import string
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from app import json_input
from app.messages import Day, DayOfYear, Euros, Message, Moment, msg
from app.rendering.french import format_amount, format_date, format_datetime, format_day_month
from app.translation import ENGLISH_CATALOGUE, load_english, say

APP = Path(__file__).resolve().parents[2] / "app"


def _sources() -> list[Path]:
    return [p for p in sorted(APP.rglob("*.py")) if "migrations" not in p.relative_to(APP).parts]


def _extracted() -> set[str]:
    found = extract_from_dir(
        APP,
        method_map=[("migrations/**", "ignore"), ("**.py", "python")],
        keywords={"msg": None},
    )
    messages = set()
    for _file, _line, message, _comments, _context in found:
        # msg() takes one template: babel never reads a plural (a tuple) out of it.
        assert isinstance(message, str), message
        messages.add(message)
    return messages


def _msg_calls() -> list[tuple[Path, ast.Call]]:
    calls = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "msg":
                calls.append((path, node))
    return calls


def _fields(template: str) -> list[tuple[str, str, str | None]]:
    """The `{name!conversion:spec}` fields of a template, in order of names."""
    parsed = string.Formatter().parse(template)
    return sorted((name, spec or "", conv) for _t, name, spec, conv in parsed if name is not None)


def test_babel_finds_every_message_the_code_marks() -> None:
    extracted = _extracted()
    calls = _msg_calls()
    literal = set()
    for path, call in calls:
        first = call.args[0] if call.args else None
        # A template made at run time could not be extracted, hence not translated.
        assert isinstance(first, ast.Constant) and isinstance(first.value, str), (
            f"{path}:{call.lineno}: msg() takes its French template as a literal"
        )
        literal.add(first.value)
    assert literal == extracted
    # the Reader's own messages, whatever the body, are among them
    for message in (json_input._UNKNOWN, json_input._REQUIRED):
        assert isinstance(message, Message) and message.template in extracted


def test_every_message_has_its_english_with_the_same_values() -> None:
    with ENGLISH_CATALOGUE.open("rb") as po:
        catalogue = read_po(po, locale="en")
    english: dict[str, str] = {}
    for m in catalogue:
        if m.id and not m.fuzzy:
            # The catalogue holds no plural forms: every entry is one text.
            assert isinstance(m.id, str) and isinstance(m.string, str), m.id
            english[m.id] = m.string
    extracted = _extracted()
    missing = sorted(m for m in extracted if not english.get(m))
    assert not missing, "sans traduction anglaise :\n" + "\n".join(missing)
    same = sorted(m for m in extracted if english[m] == m)
    assert not same, "« traduits » par le français lui-même :\n" + "\n".join(same)
    # Only a template given values has fields; in one without, braces are text (JSON).
    with_values = {
        call.args[0].value
        for _path, call in _msg_calls()
        if call.keywords
        and call.args
        and isinstance(call.args[0], ast.Constant)
        and isinstance(call.args[0].value, str)  # always, as the test above checks
    }
    different = sorted(m for m in with_values if _fields(english[m]) != _fields(m))
    assert not different, "valeurs différentes :\n" + "\n".join(different)
    # nothing left over from messages the code no longer has
    assert set(english) - extracted == set()


def _domain_error_names() -> set[str]:
    bases: dict[str, set[str]] = {}
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                names = {
                    b.id if isinstance(b, ast.Name) else b.attr
                    for b in node.bases
                    if isinstance(b, ast.Name | ast.Attribute)
                }
                bases.setdefault(node.name, set()).update(names)
    found = {"DomainError"}
    grew = True
    while grew:
        before = len(found)
        found |= {name for name, parents in bases.items() if parents & found}
        grew = len(found) != before
    return found


def _is_text(node: ast.AST) -> bool:
    """A literal, an f-string, or text glued with `+`: what a translation cannot reach."""
    literal = isinstance(node, ast.Constant) and isinstance(node.value, str)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _is_text(node.left) or _is_text(node.right)
    return literal or isinstance(node, ast.JoinedStr)


def _is_problem_slot(target: ast.expr) -> bool:
    """`errors[...]`, `problems[...]`, `self.errors[...]`: where field messages are kept."""
    if not isinstance(target, ast.Subscript):
        return False
    holder = target.value
    name = holder.id if isinstance(holder, ast.Name) else getattr(holder, "attr", "")
    return "error" in name.lower() or "problem" in name.lower()


def _unmarked(call: ast.Call) -> list[ast.expr]:
    texts = []
    for arg in [*call.args, *(k.value for k in call.keywords)]:
        if _is_text(arg):
            texts.append(arg)
        if isinstance(arg, ast.Dict):  # FieldErrors({"field": "message"})
            texts += [v for v in arg.values if v is not None and _is_text(v)]
    return texts


def test_no_refusal_is_written_without_msg() -> None:
    domain = _domain_error_names()
    assert {"NotFound", "InvalidBody", "ClientInvalid", "IdempotencyKeyReused"} <= domain
    found = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Assign) and any(map(_is_problem_slot, node.targets)):
                if _is_text(node.value):
                    found.append(f"{path.relative_to(APP)}:{node.lineno}")
                continue
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name in domain:
                texts = _unmarked(node)
            elif name == "abort" or name == "refuse":  # HTTP refusals, the JSON reader's
                texts = [a for a in node.args[1:2] if _is_text(a)]
            else:
                continue
            found += [f"{path.relative_to(APP)}:{t.lineno}" for t in texts]
    assert not found, "refus écrits sans msg() (donc jamais traduits) :\n" + "\n".join(found)


# --- the messages themselves -----------------------------------------------------------------


def test_a_message_is_its_french_sentence() -> None:
    message = msg("Entier de {minimum} à {maximum}.", minimum=1, maximum=50)
    assert message == "Entier de 1 à 50." and isinstance(message, str)
    assert message.template == "Entier de {minimum} à {maximum}."
    assert dict(message.params) == {"minimum": 1, "maximum": 50}
    # braces of a message without values are its text
    assert msg('Objet JSON attendu : {"since": "AAAA-MM-JJ"}.') == (
        'Objet JSON attendu : {"since": "AAAA-MM-JJ"}.'
    )
    copied = copy.deepcopy(message)  # made again from its template and values (__reduce__)
    assert copied == message and isinstance(copied, Message)
    assert copied.template == message.template


def test_values_in_words_are_written_in_each_language() -> None:
    day = date(2027, 3, 1)
    moment = datetime(2027, 3, 1, 13, 5, tzinfo=UTC)  # 14:05 in Paris
    amount = Decimal("1234.5")
    assert Day(day).written("fr") == format_date(day) == "1er mars 2027"
    assert Day(day).written("en") == "1 March 2027"
    assert DayOfYear(day).written("fr") == format_day_month(day)
    assert DayOfYear(day).written("en") == "1 March"
    assert Moment(moment).written("fr") == format_datetime(moment)
    assert Moment(moment).written("en") == "1 March 2027 at 14:05 (Paris time)"
    assert Euros(amount).written("fr") == format_amount(amount)
    assert Euros(amount).written("en") == "€1,234.50"


@pytest.fixture(scope="module")
def english() -> object:
    return load_english()


def test_say_translates_templates_values_and_phrases(english: object) -> None:
    from babel.support import Translations

    assert isinstance(english, Translations)
    assert say(msg("Entier de {minimum} à {maximum}.", minimum=1, maximum=50), english) == (
        "Integer from 1 to 50."
    )
    assert say("Champ inconnu.", english) == "Unknown field."  # a plain sentence too
    nested = msg(
        "La période {span} n'est pas encore facturée : la modification doit prendre effet le "
        "{begin}, ou après la facturation de la période.",
        span=msg("du {first} au {last}", first=Day(date(2027, 1, 1)), last=Day(date(2027, 1, 31))),
        begin=Day(date(2027, 1, 1)),
    )
    assert nested == (
        "La période du 1er janvier 2027 au 31 janvier 2027 n'est pas encore facturée : la "
        "modification doit prendre effet le 1er janvier 2027, ou après la facturation de la "
        "période."
    )
    assert say(nested, english) == (
        "Period from 1 January 2027 to 31 January 2027 is not billed yet: the change must take "
        "effect on 1 January 2027, or after the period is billed."
    )
    # a sentence the catalogue does not have stays French rather than failing
    assert say(msg("Phrase absente {n}.", n=3), english) == "Phrase absente 3."


def test_a_list_of_characters_is_said_item_by_item(english: object) -> None:
    from babel.support import Translations

    from app.printable import MAX_LISTED, unprintable_character_problem

    assert isinstance(english, Translations)
    text = "🥐😀漢\u2060🍞🧀🥖🍰🍩"  # nine characters the documents' fonts lack
    several = unprintable_character_problem(text)
    assert several is not None and "« 🥐 » (U+1F950), « 😀 » (U+1F600)" in several
    said = say(several, english)
    assert said.startswith("These characters cannot be printed in the documents")
    assert "“🥐” (U+1F950), “😀” (U+1F600), “漢” (U+6F22), the invisible character U+2060" in said
    assert f" and {len(text) - MAX_LISTED} others. Remove or replace them." in said
    assert f" et {len(text) - MAX_LISTED} autres. Retirez-les" in several
    one_more = unprintable_character_problem(text[: MAX_LISTED + 1])
    assert one_more is not None and " et 1 autre. Retirez-les" in one_more
    assert " and 1 other. Remove or replace them." in say(one_more, english)
