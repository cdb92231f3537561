"""The contract as an editable DOCX (for negotiation with the client's lawyers).

Same content as the PDF, from the same ``ContractDocument``: parties, quote lines and totals,
commercial terms, particular terms, the full CGV text, the order of precedence, signatures.
Rendered with docxtpl from ``templates/contracts/contract.docx`` (built by
``build_docx_template`` below; a vendor folder may hold its own) in the document sandbox with
autoescape ON: docxtpl does not escape by default, and a value holding ``<`` or ``&`` would
otherwise break the XML or inject markup.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from docx import Document as new_docx
from docx.shared import Pt
from docxtpl import DocxTemplate
from jinja2.exceptions import SecurityError, TemplateError

from app.rendering.contract_document import (
    ContractDocument,
    ParticularTerm,
    Signer,
    precedence_items,
)
from app.rendering.errors import RenderingError, TemplateSecurityError
from app.rendering.french import format_amount, format_date, format_percent, format_quantity
from app.rendering.jinja import CONTRACT_TEMPLATES_DIR, make_text_environment

DOCX_TEMPLATE = "contract.docx"

_HEADING = re.compile(r"^(#{1,6})\s+")
_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")
"""A backslash-escaped ASCII punctuation character (CommonMark), e.g. a placeholder's value
made literal by ``app.clauses.rules.markdown_literal``: Word shows the character alone."""


def markdown_blocks(text: str) -> list[dict[str, Any]]:
    """Markdown as paragraphs for Word: ``{"text", "heading"}``; headings lose their ``#``,
    bold markers are dropped, backslash escapes undone, list items keep their bullet. Text
    only (no markup passes)."""
    blocks = []
    for raw in re.split(r"\n\s*\n", text.strip()):
        lines = [line.strip() for line in raw.splitlines() if line.strip()]
        if not lines:
            continue
        match = _HEADING.match(lines[0])
        if match and len(lines) == 1:
            blocks.append({"text": lines[0][match.end() :], "heading": True})
            continue
        joined = "\n".join("• " + line[2:] if line[:2] in ("- ", "* ") else line for line in lines)
        text = _ESCAPED.sub(r"\1", _EMPHASIS.sub(r"\2", joined))
        blocks.append({"text": text, "heading": False})
    return blocks


def typed_blocks(text: str) -> list[dict[str, Any]]:
    """Text typed by sales, exactly as typed: one paragraph whose line breaks become Word
    line breaks (docxtpl turns ``\n`` into ``<w:br/>``), nothing stripped or interpreted."""
    return [{"text": text, "heading": False}]


def term_blocks(term: tuple[str, str] | tuple[str, str, bool]) -> dict[str, Any]:
    """A particular term for Word: only a library clause is Markdown (see ``ParticularTerm``)."""
    clause = ParticularTerm(*term)
    body = markdown_blocks(clause.body) if clause.markdown else typed_blocks(clause.body)
    return {"title": clause.title, "blocks": body}


def docx_context(doc: ContractDocument) -> dict[str, Any]:
    """Plain strings only: the template formats nothing, so Word shows what the PDF shows."""

    def party(p: Any) -> dict[str, Any]:
        return {
            "name": p.legal_name,
            "address": ", ".join(p.address_lines),
            "siren": p.siren,
            "vat": p.vat_number or "",
            "representative": p.representative_name,
            # the template prints it after the name, as the PDF does ("" when none)
            "representative_title": p.representative_title or "",
        }

    return {
        "title": doc.title,
        "reference": doc.reference,
        "number": doc.contract_number,
        "version": str(doc.version),
        "generated_on": format_date(doc.generated_at),
        "vendor": party(doc.vendor),
        "client": party(doc.client),
        "quote_number": doc.quote_number,
        "quote_date": format_date(doc.quote_date),
        "quote_valid_until": format_date(doc.quote_valid_until),
        "lines": [
            {
                "position": str(line.position),
                "designation": line.designation,
                "quantity": format_quantity(line.quantity, line.unit),
                "unit_price": format_amount(line.unit_price),
                "vat_rate": format_percent(line.vat_rate),
                "discount": line.discount,
                "total": format_amount(line.total_excl_vat),
            }
            for line in doc.lines
        ],
        "subtotal": format_amount(doc.subtotal_excl_vat),
        "global_discount": _global_discount(doc),
        "vat_breakdown": [
            {
                "rate": format_percent(v.rate),
                "base": format_amount(v.base),
                "vat": format_amount(v.vat),
            }
            for v in doc.vat_breakdown
        ],
        "total_excl_vat": format_amount(doc.total_excl_vat),
        "total_vat": format_amount(doc.total_vat),
        "total_incl_vat": format_amount(doc.total_incl_vat),
        "commercial_terms": list(doc.commercial_terms),
        "terms": [term_blocks(term) for term in doc.particular_terms],
        "cgv_label": doc.cgv_label,
        "cgv_date": format_date(doc.cgv_effective_date),
        "cgv_sha256": doc.cgv_sha256,
        "cgv_blocks": markdown_blocks(doc.cgv_markdown),
        "precedence": [f"{i.rank}. {i.name} {i.detail}".strip() for i in precedence_items(doc)],
        "signers": [
            {"name": s.name, "role": s.role, "email": s.email, "title": s.title or ""}
            for s in (Signer(*signer) for signer in doc.signers)
        ],
    }


def render_contract_docx(doc: ContractDocument, templates_dir: Path | None = None) -> bytes:
    """The DOCX bytes; a vendor's ``contract.docx`` wins over the bundled one."""
    path = CONTRACT_TEMPLATES_DIR / DOCX_TEMPLATE
    if templates_dir is not None and (templates_dir / DOCX_TEMPLATE).is_file():
        path = templates_dir / DOCX_TEMPLATE
    template = DocxTemplate(str(path))
    env = make_text_environment()  # a fresh sandbox: render() switches autoescape on
    try:
        template.render(docx_context(doc), jinja_env=env, autoescape=True)
    except SecurityError as exc:
        raise TemplateSecurityError(f"gabarit DOCX refusé par le bac à sable : {exc}") from exc
    except TemplateError as exc:
        raise RenderingError(f"gabarit DOCX : {exc}") from exc
    out = io.BytesIO()
    template.save(out)
    return out.getvalue()


def build_docx_template(path: Path) -> None:
    """Write the bundled DOCX template (run ``python -m app.rendering.docx`` after a change).

    Every tag sits alone in its own run, so Word never splits it; ``{%p %}`` and ``{%tr %}``
    are docxtpl's paragraph and table-row loops."""
    d = new_docx()
    d.styles["Normal"].font.name = "Liberation Serif"
    d.styles["Normal"].font.size = Pt(10.5)
    d.add_heading("{{ title }}", level=0)
    d.add_paragraph("Contrat n° {{ number }}, version {{ version }}, établi le {{ generated_on }}")
    d.add_heading("Entre les soussignés", level=1)
    for role, key in (("Le Fournisseur", "vendor"), ("Le Client", "client")):
        d.add_paragraph(f"{role} : {{{{ {key}.name }}}}, {{{{ {key}.address }}}}")
        d.add_paragraph(
            f"SIREN : {{{{ {key}.siren }}}}{{% if {key}.vat %}}, "
            f"TVA : {{{{ {key}.vat }}}}{{% endif %}}, "
            f"représentée par {{{{ {key}.representative }}}}"
            f"{{% if {key}.representative_title %}}, "
            f"{{{{ {key}.representative_title }}}}{{% endif %}}"
        )
    d.add_heading("Proposition commerciale n° {{ quote_number }}", level=1)
    d.add_paragraph("Émise le {{ quote_date }}, valable jusqu’au {{ quote_valid_until }}.")
    headers = ["N°", "Désignation", "Quantité", "Prix unitaire HT", "TVA", "Remise", "Total HT"]
    fields = ["position", "designation", "quantity", "unit_price", "vat_rate", "discount", "total"]
    table = d.add_table(rows=4, cols=len(headers))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        cell.text = text
    table.rows[1].cells[0].text = "{%tr for line in lines %}"
    for cell, name in zip(table.rows[2].cells, fields, strict=True):
        cell.text = f"{{{{ line.{name} }}}}"
    table.rows[3].cells[0].text = "{%tr endfor %}"
    d.add_paragraph(
        "{% if global_discount %}Sous-total HT : {{ subtotal }} ; remise globale : "
        "{{ global_discount }}{% endif %}"
    )
    d.add_paragraph("Total HT : {{ total_excl_vat }}")
    d.add_paragraph("{%p for v in vat_breakdown %}")
    d.add_paragraph("TVA {{ v.rate }} sur {{ v.base }} : {{ v.vat }}")
    d.add_paragraph("{%p endfor %}")
    d.add_paragraph("Total TVA : {{ total_vat }}")
    d.add_paragraph("Total TTC : {{ total_incl_vat }}")
    d.add_heading("Conditions commerciales", level=2)
    d.add_paragraph("{%p for sentence in commercial_terms %}")
    d.add_paragraph("{{ sentence }}", style="List Bullet")
    d.add_paragraph("{%p endfor %}")
    d.add_heading("Conditions particulières", level=1)
    d.add_paragraph("{%p for term in terms %}")
    d.add_heading("{{ loop.index }}. {{ term.title }}", level=2)
    d.add_paragraph("{%p for block in term.blocks %}")
    d.add_paragraph("{{ block.text }}")
    d.add_paragraph("{%p endfor %}")
    d.add_paragraph("{%p else %}")
    d.add_paragraph("Aucune condition particulière n’a été convenue.")
    d.add_paragraph("{%p endfor %}")
    d.add_heading("Conditions générales de vente — version {{ cgv_label }} du {{ cgv_date }}", 1)
    d.add_paragraph("Empreinte SHA-256 : {{ cgv_sha256 }}")
    d.add_paragraph("{%p for block in cgv_blocks %}")
    d.add_paragraph("{% if block.heading %}§ {% endif %}{{ block.text }}")
    d.add_paragraph("{%p endfor %}")
    d.add_heading("Documents contractuels et ordre de priorité", level=1)
    d.add_paragraph(
        "Le contrat n° {{ number }} (version {{ version }}) est formé des documents suivants, "
        "énumérés par ordre de priorité décroissante :"
    )
    d.add_paragraph("{%p for item in precedence %}")
    d.add_paragraph("{{ item }}")
    d.add_paragraph("{%p endfor %}")
    d.add_paragraph(
        "En cas de contradiction entre les stipulations de ces documents, les stipulations du "
        "document de rang supérieur prévalent sur celles du document de rang inférieur."
    )
    d.add_heading("Signatures", level=1)
    d.add_paragraph("{%p for s in signers %}")
    d.add_paragraph(
        "{{ s.name }}{% if s.title %} — {{ s.title }}{% endif %} "
        "({{ s.role }}, {{ s.email }}) : signature électronique"
    )
    d.add_paragraph("{%p endfor %}")
    d.save(str(path))


if __name__ == "__main__":
    build_docx_template(CONTRACT_TEMPLATES_DIR / DOCX_TEMPLATE)


def _global_discount(doc: ContractDocument) -> str:
    """« 114,00 € (5 %) », as the PDF and the quote page print it; empty without a discount."""
    if not doc.global_discount:
        return ""
    amount = format_amount(doc.global_discount)
    if doc.global_discount_rate is None:
        return amount
    return f"{amount} ({format_percent(doc.global_discount_rate)})"
