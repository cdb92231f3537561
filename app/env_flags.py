"""The on/off environment variables (PARAPHE_ACCESS_LOG, PARAPHE_SEAL_INVOICES…): one reading
of « 1/0, oui/non, true/false » for every settings module, so that they all accept the same."""

from __future__ import annotations

from collections.abc import Mapping

FLAG_VALUES = {
    "": False,
    "0": False,
    "non": False,
    "false": False,
    "no": False,
    "off": False,
    "1": True,
    "oui": True,
    "true": True,
    "yes": True,
    "on": True,
}

YES_NO = "doit valoir 1 ou 0 (oui/non, true/false)"


def read_flag(
    env: Mapping[str, str],
    name: str,
    default: str,
    problems: list[str],
    *,
    expected: str = YES_NO,
) -> bool:
    """The variable `name` (`default` when unset) as a boolean; an unknown value adds
    « NAME <expected> » to `problems` and reads as the default."""
    raw = env.get(name, default).strip().lower()
    if raw not in FLAG_VALUES:
        problems.append(f"{name} {expected}")
    return FLAG_VALUES.get(raw, FLAG_VALUES[default])
