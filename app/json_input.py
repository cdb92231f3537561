"""Reading the JSON bodies of the write API: every member checked for its type and bounds,
every problem collected under its path (`lines[2].quantity`), so that one answer lists them
all (`app.errors.InvalidBody`, a 422 whose `errors` is a list of `{"field", "message"}`).

The bounds are the ones the OpenAPI description states (each feature's `openapi` part): a
body the description calls valid is never refused here, only by the domain's own rules (the
SIREN's key, a client that does not exist) which no schema can say."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from app.errors import InvalidBody
from app.messages import msg
from app.plaintext import text_problem

DECIMAL_PATTERN = "^-?[0-9]{1,9}([.][0-9]{1,4})?$"
"""Amounts, quantities and rates travel as decimal strings (`"12.50"`), never as floats."""
DATE_PATTERN = "^(19|[2-9][0-9])[0-9]{2}-[0-9]{2}-[0-9]{2}$"
_UNKNOWN = msg("Champ inconnu.")
_REQUIRED = msg("Ce champ est obligatoire.")
BODY = "body"
"""The path of a problem with the body as a whole (not JSON, not an object)."""


class Reader:
    """One JSON object of a body (the body itself, or one of its members), read member by
    member; the problems go to the `errors` shared by the whole body."""

    def __init__(self, value: Any, path: str = "", errors: dict[str, str] | None = None) -> None:
        self.path = path
        self.errors: dict[str, str] = {} if errors is None else errors
        # Not an object: said once at its path, and nothing about the members it lacks.
        self.valid = isinstance(value, dict)
        self.members: dict[str, Any] = value if isinstance(value, dict) else {}
        if not self.valid:
            self.errors[path or BODY] = msg("Objet JSON attendu.")

    def at(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def has(self, name: str) -> bool:
        return name in self.members

    def refuse(self, name: str, message: str) -> None:
        if self.valid:
            self.errors.setdefault(self.at(name), message)

    def missing(self, name: str, required: bool) -> bool:
        """A required member left out is refused as missing (not as of the wrong type: the
        caller sent nothing to be wrong)."""
        if required and name not in self.members:
            self.refuse(name, _REQUIRED)
            return True
        return False

    def only(self, allowed: Iterable[str]) -> None:
        """Unknown members are refused (a typo would otherwise be silently ignored)."""
        for name in sorted(set(self.members) - set(allowed)):
            self.errors[self.at(name)] = _UNKNOWN

    def text(
        self,
        name: str,
        *,
        max_length: int,
        required: bool = False,
        multiline: bool = False,
        default: str = "",
    ) -> str:
        value = self.members.get(name)
        if self.missing(name, required):
            return default
        if value is None and not required and name not in self.members:
            return default
        if not isinstance(value, str):
            self.refuse(name, msg("Chaîne de caractères attendue."))
            return default
        if required and not value.strip():
            self.refuse(name, _REQUIRED)
        elif len(value) > max_length:
            self.refuse(name, msg("{max_length} caractères au maximum.", max_length=max_length))
        elif problem := text_problem(value, multiline=multiline):
            self.refuse(name, problem)
        return value

    def integer(
        self, name: str, *, minimum: int, maximum: int, required: bool = False
    ) -> int | None:
        value = self.members.get(name)
        if self.missing(name, required):
            return None
        if value is None and not required and name not in self.members:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.refuse(name, msg("Nombre entier attendu."))
            return None
        if not minimum <= value <= maximum:
            self.refuse(
                name, msg("Entier de {minimum} à {maximum}.", minimum=minimum, maximum=maximum)
            )
            return None
        return value

    def boolean(self, name: str, *, default: bool) -> bool:
        if name not in self.members:
            return default
        value = self.members[name]
        if not isinstance(value, bool):
            self.refuse(name, msg("true ou false."))
            return default
        return value

    def decimal(self, name: str, *, required: bool = False) -> Decimal | None:
        value = self.members.get(name)
        if self.missing(name, required):
            return None
        if value is None and not required and name not in self.members:
            return None
        if not isinstance(value, str) or not re.fullmatch(DECIMAL_PATTERN, value):
            self.refuse(name, msg('Nombre décimal en chaîne attendu (ex. "12.50").'))
            return None
        return Decimal(value)

    def day(self, name: str) -> date | None:
        value = self.members.get(name)
        if value is None and name not in self.members:
            return None
        if isinstance(value, str) and re.fullmatch(DATE_PATTERN, value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.refuse(name, msg("Date attendue (AAAA-MM-JJ)."))
        return None

    def choice(self, name: str, choices: Iterable[str], *, default: str) -> str:
        allowed = list(choices)
        value = self.members.get(name, default)
        if not isinstance(value, str) or value not in allowed:
            self.refuse(name, msg("Valeur attendue parmi : {choices}.", choices=", ".join(allowed)))
            return default
        return value

    def objects(self, name: str, *, min_items: int, max_items: int) -> list[Reader]:
        """The array member `name`, each item read as an object (`name[i]`)."""
        value = self.members.get(name, [] if min_items == 0 else None)
        if not isinstance(value, list):
            self.refuse(name, msg("Liste attendue."))
            return []
        if not min_items <= len(value) <= max_items:
            self.refuse(
                name,
                msg(
                    "De {min_items} à {max_items} éléments.",
                    min_items=min_items,
                    max_items=max_items,
                ),
            )
            return []
        return [Reader(item, f"{self.at(name)}[{i}]", self.errors) for i, item in enumerate(value)]

    def integers(self, name: str, *, max_items: int, maximum: int) -> list[int]:
        """An optional array of distinct positive integers (ids)."""
        value = self.members.get(name, [])
        if (
            not isinstance(value, list)
            or len(value) > max_items
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
            or not all(1 <= v <= maximum for v in value)
            or len(set(value)) != len(value)
        ):
            self.refuse(
                name,
                msg("Liste d'identifiants distincts ({max_items} au plus).", max_items=max_items),
            )
            return []
        return list(value)


def raise_problems(errors: dict[str, str], domain: dict[str, str] | None = None) -> None:
    """Raise every problem of the body at once: the reader's, then the domain's (which speak
    of members the reader accepted). A body that is not an object is only that problem."""
    if BODY in errors:
        raise InvalidBody({BODY: errors[BODY]})
    merged = dict(errors)
    for path, message in (domain or {}).items():
        merged.setdefault(path, message)
    if merged:
        raise InvalidBody(merged)
