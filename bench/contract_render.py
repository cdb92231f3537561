"""Benchmark: rendering a contract PDF/A-3b, the service's path against a naive render, in
the same run, on the same contract.

The contract has 20 quote lines, 3 particular clauses and the real CGV fixture
(``../shared/fixtures/cgv/dendreo-cgv-2.2.md``, relative to the repository root).

* naive: what a straightforward implementation does per contract: the full HTML from the
  same template (new environment, CGV Markdown converted), then one WeasyPrint render of it
  with WeasyPrint's defaults, through the same asset fetcher, as PDF/A-3b (``naive_render``);
* ours: ``render_contract_pdf`` as the contracts service calls it: the CGV section is laid
  out and painted once per CGV text, and each contract only lays out and paints its own
  pages (one empty page per CGV page under its header and "page X / Y"), the CGV pages
  then drawn underneath in the PDF; compiled templates, converted Markdown and loaded
  fonts are kept per process. The warm-up pays the first CGV render (reported apart).

Each timed round renders a new contract number (the running header differs) with both
paths, interleaved; the medians are compared. The text extracted from both PDFs is checked
to be identical, every "page X / Y" included. Peak memory is measured in a child process
rendering a contract of about 100 pages (the CGV text repeated) through the service's path.
The last line printed is one JSON object (see docs/benchmarks.md).

Run from the repository root::

    .venv/bin/python bench/contract_render.py [--quick] [--rounds N]
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from pypdf import PdfReader
from weasyprint import HTML

from app.rendering.contract import (
    CONTRACT_ASSETS_DIR,
    render_contract_html,
    render_contract_pdf,
)
from app.rendering.contract_document import ContractDocument, ParticularTerm
from app.rendering.french import plural
from app.rendering.jinja import make_environment
from app.rendering.markdown import clear_markdown_cache
from app.rendering.pdf import ASSETS_BASE_URL, AssetFetcher
from tests.shared_fixtures import CGV_FIXTURE  # ../shared, never copied
from tests.unit.rendering.factory import CLIENT, build_document, priced_lines


def build_contract(cgv: str, number: int) -> ContractDocument:
    """A contract with 20 quote lines at two VAT rates and 3 particular clauses."""
    return build_document(
        cgv,
        contract_number=f"CTR-2026-{number:04d}",
        generated_at=datetime(2026, 11, 22, 9, 0, tzinfo=UTC),
        client=replace(CLIENT, legal_name=f"Client {number} SAS"),
        quote_number=f"DEV-2026-{number:04d}",
        quote_date=date(2026, 11, 20),
        quote_valid_until=date(2026, 12, 20),
        particular_terms=(
            # a library clause (Markdown); the other two are printed as typed
            ParticularTerm("Durée", "Engagement de **12 mois**, reconduction tacite.", True),
            ParticularTerm("Préavis", "Résiliation avec un préavis de 3 mois."),
            ParticularTerm("Données", "Hébergement en France ; réversibilité sous 30 jours."),
        ),
        **priced_lines(designation="Module {i} — abonnement mensuel « Premium »", unit="mois"),
    )


def page_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def naive_render(doc: ContractDocument) -> bytes:
    """What a straightforward implementation does for each contract: a new template
    environment, the full HTML (CGV Markdown converted again), one WeasyPrint render with
    its defaults (fonts loaded again). Same template, same HTML, same fetcher, same PDF/A."""
    clear_markdown_cache()
    html = render_contract_html(doc, make_environment())
    fetcher = AssetFetcher(ASSETS_BASE_URL, CONTRACT_ASSETS_DIR)
    pdf = HTML(string=html, base_url=ASSETS_BASE_URL, url_fetcher=fetcher).write_pdf(
        pdf_variant="pdf/a-3b"
    )
    assert isinstance(pdf, bytes)
    return pdf


def _timed(doc: ContractDocument, *, reuse: bool) -> tuple[float, bytes, float]:
    """Wall time, the PDF, and the CPU time of this process (steadier on a shared machine:
    another process's load lengthens the wall time, hardly the CPU time)."""
    start, cpu = time.perf_counter(), time.process_time()
    pdf = render_contract_pdf(doc) if reuse else naive_render(doc)
    return time.perf_counter() - start, pdf, time.process_time() - cpu


def memory_child(repeat: int) -> None:
    """Render one contract whose CGV is the fixture ``repeat`` times; print pages and peak MB."""
    cgv = "\n\n".join([CGV_FIXTURE.read_text(encoding="utf-8")] * repeat)
    pdf = render_contract_pdf(build_contract(cgv, 1))
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps({"pages": pages, "peak_mb": round(peak_mb, 1)}))


def measure_memory(repeat: int) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, __file__, "--memory-child", str(repeat)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    measured: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short CGV, one round, seconds")
    parser.add_argument("--rounds", type=int, default=7, help="timed contracts per path")
    parser.add_argument("--memory-child", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child)
        return

    cgv = CGV_FIXTURE.read_text(encoding="utf-8")
    rounds = args.rounds
    memory_repeat = 10  # the fixture is ~10 pages here: ~100 pages for the memory figure
    if args.quick:
        cgv = cgv[: len(cgv) // 5]
        rounds = 1
        memory_repeat = 1

    # Warm-up: imports, fonts, and for ours the one layout of this CGV text.
    warm = build_contract(cgv, 1)
    cold_s, ours_pdf, _ = _timed(warm, reuse=True)
    _, naive_pdf, _ = _timed(warm, reuse=False)
    ours_text, naive_text = page_texts(ours_pdf), page_texts(naive_pdf)
    pages = len(naive_text)
    same_text = ours_text == naive_text
    footers_ok = all(f"page {n} / {pages}" in text for n, text in enumerate(ours_text, 1))

    ours: list[float] = []
    naive: list[float] = []
    ours_cpu: list[float] = []
    naive_cpu: list[float] = []
    for number in range(2, rounds + 2):
        doc = build_contract(cgv, number)
        wall, _, cpu = _timed(doc, reuse=True)
        ours.append(wall)
        ours_cpu.append(cpu)
        wall, _, cpu = _timed(doc, reuse=False)
        naive.append(wall)
        naive_cpu.append(cpu)
    ours_ms = statistics.median(ours) * 1000
    naive_ms = statistics.median(naive) * 1000
    ratio = naive_ms / ours_ms
    ours_cpu_ms = statistics.median(ours_cpu) * 1000
    naive_cpu_ms = statistics.median(naive_cpu) * 1000
    memory = measure_memory(memory_repeat)

    per_path = plural(rounds, "contrat", "contrats")
    print(f"Contrat de {pages} pages (20 lignes, 3 clauses, CGV), {per_path} par chemin")
    print(f"  rendu naïf (HTML complet)     : {naive_ms:.0f} ms médian")
    print(f"  service (pages CGV réutilisées): {ours_ms:.0f} ms médian")
    print(f"  premier rendu du service (mise en page des CGV comprise) : {cold_s * 1000:.0f} ms")
    print(f"  rapport : {ratio:.2f} (objectif ≥ 5)")
    print(
        f"  temps CPU médian : naïf {naive_cpu_ms:.0f} ms, service {ours_cpu_ms:.0f} ms, "
        f"rapport {naive_cpu_ms / ours_cpu_ms:.2f}"
    )
    print(f"  texte identique : {same_text} ; « page X / {pages} » sur chaque page : {footers_ok}")
    print(f"  mémoire de pointe, contrat de {memory['pages']:.0f} pages : {memory['peak_mb']} Mo")
    print(
        json.dumps(
            {
                "bench": "contract_render",
                "ours_ms": round(ours_ms, 1),
                "naive_ms": round(naive_ms, 1),
                "ratio": round(ratio, 2),
                "ours_cpu_ms": round(ours_cpu_ms, 1),
                "naive_cpu_ms": round(naive_cpu_ms, 1),
                "cpu_ratio": round(naive_cpu_ms / ours_cpu_ms, 2),
                "pages": pages,
                "peak_mb_100_pages": memory["peak_mb"],
                "memory_pages": int(memory["pages"]),
                "first_render_ms": round(cold_s * 1000, 1),
                "rounds": rounds,
                "same_text": same_text,
                "page_footers_ok": footers_ok,
            }
        )
    )


if __name__ == "__main__":
    main()
