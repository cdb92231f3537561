"""docs/benchmarks.md keeps one short table line per figure, and every bench has one."""

from __future__ import annotations

import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DOC = (REPO_ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
TABLE = [line for line in DOC.split("## Details")[0].splitlines() if line.startswith("| [")]


def test_every_bench_has_a_line_in_the_table() -> None:
    # A bench is a script (`bench/scratch.py` is what several of them import).
    benches = {
        p.name
        for p in (REPO_ROOT / "bench").glob("*.py")
        if 'if __name__ == "__main__":' in p.read_text(encoding="utf-8")
    }
    assert len(benches) >= 10
    named = {name for line in TABLE for name in re.findall(r"bench/(\w+\.py)", line)}
    assert benches - named == set()


def test_each_table_line_is_short_with_command_result_and_goal() -> None:
    for line in TABLE:
        cells = line.strip("|").split(" | ")
        assert len(cells) == 4, line
        assert all(cell.strip() for cell in cells), line
        assert len(line) <= 400, f"{len(line)} characters: the details go below the table"


def test_each_line_links_to_its_details() -> None:
    anchors = set(re.findall(r'<a id="([\w-]+)"></a>', DOC))
    for line in TABLE:
        link = re.match(r"\| \[[^\]]+\]\(#([\w-]+)\)", line)
        assert link is not None and link[1] in anchors, line
