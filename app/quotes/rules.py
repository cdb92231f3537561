"""What makes a quote acceptable, beyond its lines' money rules (``app.pricing``): printable
designations, a global discount the lines can bear, particular terms of a bounded size."""

from __future__ import annotations

from collections.abc import Sequence

from app.messages import msg
from app.plaintext import control_character_problem
from app.pricing.discounts import NO_DISCOUNT, Discount
from app.pricing.lines import LineInput
from app.pricing.problems import QUOTE_LINES, global_discount_problem, line_problems
from app.printable import unprintable_character_problem

MAX_LINES = QUOTE_LINES.max_lines
MAX_PARTICULAR_TERMS = 100_000


def quote_problems(
    lines: Sequence[LineInput], particular_terms: str, global_discount: Discount = NO_DISCOUNT
) -> dict[str, str]:
    """Every problem of a quote's lines, global discount and particular terms, in French,
    keyed like the form's fields (``lines-<i>-<field>`` for a line)."""
    errors = line_problems(lines, QUOTE_LINES)
    for index, line in enumerate(lines):
        # the PDF's fonts must be able to print it; one message per field
        key = f"lines-{index}-designation"
        if key not in errors and (problem := unprintable_character_problem(line.designation)):
            errors[key] = problem
    if lines and not errors and (problem := global_discount_problem(lines, global_discount)):
        errors["global_discount_value"] = problem
    if len(particular_terms.encode("utf-8")) > MAX_PARTICULAR_TERMS:
        errors["particular_terms"] = msg("Les conditions particulières dépassent 100 Ko.")
    elif problem := control_character_problem(
        particular_terms, multiline=True
    ) or unprintable_character_problem(particular_terms, multiline=True):
        errors["particular_terms"] = problem
    return errors
