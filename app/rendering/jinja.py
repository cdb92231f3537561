"""The sandboxed Jinja environment for document templates (contracts, invoices).

Document templates may be edited by a vendor, so they run in Jinja's immutable sandbox:
no access to Python internals (``''.__class__.__mro__``), no mutation of the context, no
huge repetitions or powers. Autoescape is on, undefined names raise (``StrictUndefined``)
and printing ``None`` raises too: a contract never says "None" or silently leaves a blank.
Every failure surfaces as a ``RenderingError``; sandbox violations as
``TemplateSecurityError``. Values are data only: a client called ``{{ 7*7 }}`` is printed
as such, nothing re-renders a value as a template.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.exceptions import SecurityError, TemplateError, TemplateRuntimeError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedEnvironment

from app.rendering.errors import RenderingError, TemplateSecurityError
from app.rendering.french import (
    format_amount,
    format_amount_excl_vat,
    format_date,
    format_datetime,
    format_decimal,
    format_percent,
    format_quantity,
    grouped_siren,
    typographie,
)
from app.rendering.markdown import markdown_to_html

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATES_ROOT = REPO_ROOT / "templates"
CONTRACT_TEMPLATES_DIR = TEMPLATES_ROOT / "contracts"
INVOICE_TEMPLATES_DIR = TEMPLATES_ROOT / "invoices"
DEFAULT_TEMPLATE_DIRS: tuple[Path, ...] = (CONTRACT_TEMPLATES_DIR, INVOICE_TEMPLATES_DIR)

FILTERS: Mapping[str, Callable[..., Any]] = {
    "format_amount": format_amount,
    "format_amount_excl_vat": format_amount_excl_vat,
    "format_quantity": format_quantity,
    "format_decimal": format_decimal,
    "format_percent": format_percent,
    "format_date": format_date,
    "format_datetime": format_datetime,
    "typographie": typographie,
    "siren": grouped_siren,
    "markdown": markdown_to_html,
}

MAX_SEQUENCE_REPEAT = 10_000
"""Largest ``"x" * n`` or ``[x] * n`` a template may build."""
MAX_POWER_BITS = 4_096
"""Largest integer (in bits) a template may build with ``**``."""


def _refuse_none(value: Any) -> Any:
    if value is None:
        raise TemplateRuntimeError("valeur absente (None) dans le document : utiliser {% if %}")
    return value


class DocumentSandbox(ImmutableSandboxedEnvironment):
    """Immutable sandbox that also bounds ``*`` and ``**`` (a template cannot exhaust memory)."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Context, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "*":
            for sequence, count in ((left, right), (right, left)):
                if (
                    isinstance(sequence, str | bytes | list | tuple)
                    and isinstance(count, int)
                    and count * max(len(sequence), 1) > MAX_SEQUENCE_REPEAT
                ):
                    raise SecurityError("répétition trop grande dans le gabarit")
            return operator.mul(left, right)
        if operator_name == "**":
            if (
                isinstance(left, int)
                and isinstance(right, int)
                and max(abs(left).bit_length(), 1) * right > MAX_POWER_BITS
            ):
                raise SecurityError("puissance trop grande dans le gabarit")
            return operator.pow(left, right)
        return super().call_binop(context, operator_name, left, right)


def make_environment(template_dirs: Sequence[Path] | None = None) -> SandboxedEnvironment:
    """A sandboxed environment over ``template_dirs`` (searched in order).

    Defaults to ``templates/contracts`` then ``templates/invoices``; a vendor can point the
    service at its own folder(s), listed first so its templates override the bundled ones.
    """
    dirs = DEFAULT_TEMPLATE_DIRS if template_dirs is None else tuple(template_dirs)
    if not dirs:
        raise ValueError("au moins un dossier de gabarits est nécessaire")
    env = DocumentSandbox(
        loader=FileSystemLoader([str(d) for d in dirs]),
        autoescape=True,
        undefined=StrictUndefined,
        finalize=_refuse_none,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    return env


def render_template(env: SandboxedEnvironment, name: str, context: Mapping[str, Any]) -> str:
    """Render ``name`` with ``context``; any failure is a ``RenderingError`` (fail closed)."""
    return _fail_closed(
        lambda: env.get_template(name).render(dict(context)),
        refused=f"gabarit {name!r} refusé par le bac à sable",
        prefix=f"gabarit {name!r} : ",
    )


def _fail_closed(render: Callable[[], str], *, refused: str, prefix: str) -> str:
    """``render()``, every failure turned into a ``RenderingError``: a ``TemplateSecurityError``
    (``refused : why``) when the sandbox said no, else the error after ``prefix``."""
    try:
        return render()
    except SecurityError as exc:
        raise TemplateSecurityError(f"{refused} : {exc}") from exc
    except TemplateError as exc:
        raise RenderingError(f"{prefix}{exc}") from exc
    except Exception as exc:  # a filter refusing a value (naive datetime, float amount ...)
        raise RenderingError(f"{prefix}{type(exc).__name__}: {exc}") from exc


def make_text_environment() -> SandboxedEnvironment:
    """The same sandbox for short texts written by users (clause bodies in Markdown).

    No loader (a text cannot include or import a file), no autoescape (the output is Markdown,
    which ``markdown_to_html`` renders with raw HTML disabled, so it stays inert), undefined
    names and ``None`` raise. Values are data: a placeholder's value is never re-rendered.
    """
    env = DocumentSandbox(
        loader=None,
        autoescape=False,
        undefined=StrictUndefined,
        finalize=_refuse_none,
    )
    env.globals.clear()  # no range, cycler, lipsum...: only the names the caller passes exist
    env.filters.update(FILTERS)
    return env


def render_string(env: SandboxedEnvironment, source: str, context: Mapping[str, Any]) -> str:
    """Render a user-written text; any failure is a ``RenderingError`` (fail closed)."""
    return _fail_closed(
        lambda: env.from_string(source).render(dict(context)),
        refused="texte refusé par le bac à sable",
        prefix="",
    )
