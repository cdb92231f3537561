"""Accessibility check of a page with axe-core (WCAG 2.1 A and AA rules), run inside Chromium.

axe-core comes from npm (`tests/e2e/npm/package.json`, pinned in its lock file, installed by
`.ci/setup test`): it is the checker the accessibility teams and tools of the field rely on,
and injecting its script keeps the check in the real browser the test already drives.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE_SCRIPT = Path(__file__).parent / "npm" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = frozenset({"serious", "critical"})


@dataclass(frozen=True)
class Violation:
    rule: str
    impact: str
    help: str
    targets: tuple[str, ...]

    def __str__(self) -> str:
        return f"[{self.impact}] {self.rule}: {self.help} — {', '.join(self.targets[:5])}"


@cache
def _script() -> str:
    if not AXE_SCRIPT.is_file():
        raise FileNotFoundError(
            f"{AXE_SCRIPT} manque : lancez `.ci/setup test` (npm ci dans tests/e2e/npm)."
        )
    return AXE_SCRIPT.read_text(encoding="utf-8")


def violations(page: Page) -> list[Violation]:
    """Every WCAG 2.1 A/AA violation axe-core finds on the page as it is now."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, not as a <script> tag: the pages' Content
        # Security Policy rightly refuses inline scripts, and the check must not weaken it.
        page.evaluate(_script())
    result: dict[str, Any] = page.evaluate(
        "async (tags) => await window.axe.run(document, {runOnly: {type: 'tag', values: tags}})",
        WCAG_21_AA,
    )
    return [
        Violation(
            rule=str(item["id"]),
            impact=str(item.get("impact") or "minor"),
            help=str(item["help"]),
            targets=tuple(str(node["target"]) for node in item["nodes"]),
        )
        for item in result["violations"]
    ]


def assert_no_serious_violations(page: Page) -> None:
    """Fails with the list of serious or critical violations (minor and moderate are tolerated)."""
    blocking = [v for v in violations(page) if v.impact in BLOCKING_IMPACTS]
    assert not blocking, "accessibilité (axe-core, WCAG 2.1 AA) :\n" + "\n".join(map(str, blocking))
