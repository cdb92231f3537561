"""Mails written as Jinja templates under `app/templates/mails/<feature>/`, in French.

Each template gives a `subject` block and the whole text as its body. The text is what the
outbox keeps; the transport draws the HTML part from it through the one layout
(`mail_layout.py`, autoescaped), so the wording lives in one file per mail. Text templates are
not escaped: a client named `<b>…</b>` or `A & B` reads as typed in the text part, and as
text (never markup) in the HTML part."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from app.mail import Attachment, OutgoingMail
from app.rendering.french import (
    de,
    format_amount,
    format_date,
    format_datetime,
    format_percent,
    plural,
)

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "mails"


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,  # a misspelt variable fails the test, not the recipient
        keep_trailing_newline=True,
    )
    env.filters.update(
        amount=format_amount,
        date_fr=format_date,
        datetime_fr=format_datetime,
        percent=format_percent,
        de=de,
        plural=plural,
    )
    return env


def render_mail(
    template_name: str,
    to: str,
    *,
    attachments: tuple[Attachment, ...] = (),
    **context: object,
) -> OutgoingMail:
    """The mail `template_name`, a path under `templates/mails/` (``invoices/reminder.txt``)."""
    template = _environment().get_template(template_name)
    subject = "".join(template.blocks["subject"](template.new_context(context)))
    return OutgoingMail(
        to=to, subject=subject, text=template.render(context), attachments=attachments
    )
