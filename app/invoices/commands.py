"""`paraphe invoices …`: the billing run."""

from __future__ import annotations

import sys
from datetime import date

import click
from flask.cli import AppGroup

from app.clock import business_date
from app.db import transaction, utcnow
from app.errors import DomainError, FieldErrors
from app.invoices import issuing, jobs, payments, plans, revision, tasks, workflow
from app.invoices.models import RateKind
from app.invoices.pdfs import Issued
from app.pricing.decimals import parse_decimal
from app.rendering.french import format_amount, format_date, format_decimal, plural
from app.runtime import Collaborators
from app.waiting import follow, wait_options
from app.wiring import runtime


@click.group("invoices", cls=AppGroup, help="Facturation.")
def invoices_group() -> None:
    """Facturation."""


@invoices_group.command(
    "run",
    help=(
        "Émet toutes les factures dues pour la période (AAAA-MM) et met en file la production "
        "de leurs PDF (exécutée par `paraphe worker`)."
    ),
)
@click.option("--period", required=True, help="Période facturée, ex. 2026-12.")
@wait_options(
    default_timeout=1800, what="Attend que les PDF soient produits, avec une barre de progression."
)
def run(period: str, wait: bool, timeout: int) -> None:
    rt = runtime()
    try:
        issuing.billed_period(period)
    except DomainError as exc:
        click.echo(exc.detail, err=True)
        sys.exit(2)
    collab = rt.collaborators(utcnow())
    queued: list[tuple[Issued, int]] = []

    def enqueue(kind: Issued, issued_id: int) -> None:
        queued.append((kind, issued_id))
        tasks.after_issue(kind, issued_id)

    plans = len(jobs.plans_to_bill(collab.session_factory))
    with click.progressbar(length=plans, label=f"Facturation {period}") as bar:
        report = jobs.issue_period(collab, period, on_issued=enqueue, on_step=lambda: bar.update(1))
    click.echo(
        f"{plural(len(report.issued), 'facture émise', 'factures émises')}, "
        f"{plural(report.already_billed, 'déjà facturée', 'déjà facturées')}, "
        f"{format_decimal(report.nothing_due)} sans échéance, "
        f"{plural(len(report.refused), 'refusée', 'refusées')}."
    )
    if report.recovered:
        click.echo(f"{report.recovered} PDF de documents émis précédemment remis en production.")
    for number in report.issued:
        click.echo(f"  {number}")
    for problem in report.refused:
        click.echo(f"  refus : {problem}", err=True)
    if not wait:
        click.echo(f"{len(queued)} PDF en préparation par les workers (`paraphe worker`).")
        return
    left = _wait_for_pdfs(collab, queued, timeout)
    if left:
        click.echo(f"{left} PDF encore en préparation après {timeout} s.", err=True)
        sys.exit(1)
    click.echo(f"{plural(len(queued), 'PDF produit et archivé', 'PDF produits et archivés')}.")


def _wait_for_pdfs(collab: Collaborators, queued: list[tuple[Issued, int]], timeout: int) -> int:
    """Follow the queue's workers until every PDF of ``queued`` is archived; how many are
    still missing when ``timeout`` seconds have passed."""
    produced = follow(
        total=len(queued),
        label="Production des PDF",
        timeout=timeout,
        read=lambda: len(queued) - workflow.count_without_pdf(collab, queued),
        done=lambda count: count,
    )
    return len(queued) - produced


@invoices_group.command(
    "pdfs", help="Produit les PDF des factures et avoirs émis qui n'en ont pas encore."
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Processus de rendu PDF en parallèle.",
)
def produce_pdfs(workers: int) -> None:
    rt = runtime()
    produced = workflow.produce_missing_pdfs(
        rt.collaborators(utcnow()), workers=workers, actor="cli"
    )
    click.echo(f"{plural(produced, 'PDF produit', 'PDF produits')}.")


@invoices_group.command("rate", help="Saisit un taux de référence daté (BCE ou intérêt légal).")
@click.option(
    "--kind",
    type=click.Choice([k.value for k in RateKind]),
    required=True,
    help="ecb : taux directeur de la BCE ; legal : taux de l'intérêt légal.",
)
@click.option("--from", "effective_from", required=True, help="En vigueur à partir du AAAA-MM-JJ.")
@click.option("--rate", required=True, help="Taux annuel en %, ex. 2,15.")
def rate(kind: str, effective_from: str, rate: str) -> None:
    rt = runtime()
    value = parse_decimal(rate)
    try:
        day = date.fromisoformat(effective_from)
    except ValueError:
        click.echo("Date invalide : attendu AAAA-MM-JJ.", err=True)
        sys.exit(2)
    if value is None:
        click.echo("Taux invalide.", err=True)
        sys.exit(2)
    try:
        with transaction(rt.session_factory) as session:
            payments.set_reference_rate(
                session, kind=RateKind(kind), effective_from=day, rate=value, now=utcnow()
            )
    except FieldErrors as exc:
        click.echo(exc.detail, err=True)
        sys.exit(2)
    click.echo(f"{RateKind(kind).label} : {value} % à partir du {format_date(day)}.")


@invoices_group.command("remind", help="Envoie les relances dues pour les factures impayées.")
def remind() -> None:
    rt = runtime()
    now = utcnow()
    try:
        sent = jobs.send_reminders(rt.session_factory, rt.mailer, as_of=business_date(now), now=now)
    except DomainError as exc:
        click.echo(exc.detail, err=True)
        sys.exit(2)
    click.echo(f"{plural(len(sent), 'relance envoyée', 'relances envoyées')}.")
    for subject in sent:
        click.echo(f"  {subject}")


@invoices_group.command("revise", help="Révision Syntec d'un plan : aperçu, puis --apply.")
@click.option("--plan", "plan_id", type=int, required=True, help="Numéro du plan de facturation.")
@click.option("--renewal", required=True, help="Date de renouvellement AAAA-MM-JJ.")
@click.option("--apply", "apply_", is_flag=True, help="Applique la révision affichée.")
def revise(plan_id: int, renewal: str, apply_: bool) -> None:
    rt = runtime()
    try:
        day = date.fromisoformat(renewal)
    except ValueError:
        click.echo("Date invalide : attendu AAAA-MM-JJ.", err=True)
        sys.exit(2)
    try:
        with transaction(rt.session_factory) as session:
            plan = plans.get_plan(session, plan_id)  # unknown: InvoiceNotFound
            preview = revision.preview_revision(session, plan=plan, renewal=day)
            click.echo(preview.formula)
            for designation, p0, p in preview.prices:
                click.echo(f"  {designation} : {format_amount(p0)} HT → {format_amount(p)} HT")
            if apply_:
                revision.apply_revision(session, plan=plan, renewal=day, now=utcnow(), actor="cli")
                click.echo("Révision appliquée : la prochaine facture la mentionne.")
            else:
                click.echo("Aperçu seulement : relancer avec --apply pour appliquer.")
    except DomainError as exc:
        click.echo(exc.detail, err=True)
        sys.exit(2)
