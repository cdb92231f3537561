"""`paraphe audit …`: checking the hash-chained journal, and timestamping its head."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from app.audit import anchoring, sealing, services, workflow
from app.audit.workflow import when
from app.db import utcnow
from app.pki import trust_roots
from app.rendering.french import plural
from app.wiring import runtime, unit_of_work


@click.group("audit", cls=AppGroup, help="Journal d'audit chaîné.")
def audit_group() -> None:
    """Journal d'audit chaîné."""


@audit_group.command(
    "verify",
    help=(
        "Recalcule la chaîne d'empreintes du journal et indique où elle est rompue "
        "(événement altéré, inséré ou supprimé). Code de sortie 1 si elle l'est."
    ),
)
def verify() -> None:
    rt = runtime()
    with unit_of_work() as session:
        count = services.count_events(session)
        problems = services.verify_chain(session)
        anchors = anchoring.verify_anchors(session, trust_roots(rt.settings))
        missing = anchoring.verify_anchor_records(session)
        sealed = sealing.verify_sealed_anchors(session, rt.store, trust_roots(rt.settings))
    broken = [a for a in anchors if a.problem is not None]
    if not problems:
        events = plural(count, "événement", "événements")
        click.echo(f"Journal intact : {events}, chaîne d'empreintes vérifiée.")
    else:
        click.echo(f"Journal ROMPU ({plural(count, 'événement lu', 'événements lus')}) :")
        for problem in problems:
            where = f"n° {problem.event_id}" if problem.event_id is not None else "—"
            click.echo(f"  [{where}] {problem.message}")
    if sealed.anchors and not sealed.problems:
        newest = sealed.anchors[-1]
        click.echo(
            f"Ancres scellées valides : {len(sealed.anchors)} ; la dernière "
            f"({when(newest.anchored_at)}) atteste les événements n° 1 à {newest.event_id}."
        )
    elif sealed.problems:
        click.echo("Ancres scellées : journal NON CONFORME :")
        for sentence in sealed.problems:
            click.echo(f"  {sentence}")
    if not anchors:
        click.echo(
            f"{workflow.NO_TSA} {workflow.SEALED_INSTEAD}"
            if rt.settings.tsa_url is None
            else "Aucun horodatage enregistré : "
            "le travail périodique `audit.anchor` le fait chaque heure, ou `paraphe audit anchor`."
        )
        if rt.settings.tsa_url is None and not sealed.anchors and not sealed.problems:
            click.echo(
                "Aucune ancre scellée : lancez `paraphe audit anchor` "
                "(périodiquement, par exemple chaque heure)."
            )
    elif not broken:
        last = anchors[-1]
        click.echo(
            f"Horodatages valides : {len(anchors)} ; le dernier ({when(last.timestamped_at)}, "
            f"{last.report.tsa_common_name}) couvre les événements n° 1 à {last.event_id}."
        )
    else:
        click.echo(f"Horodatages INVALIDES ({len(broken)} sur {len(anchors)}) :")
        for check in broken:
            click.echo(
                f"  [horodatage {check.anchor_id}, événement n° {check.event_id}, "
                f"{when(check.timestamped_at)}] {check.problem}"
            )
    if missing:
        click.echo("Horodatages journalisés MANQUANTS :")
        for sentence in missing:
            click.echo(f"  {sentence}")
    if problems or broken or missing or sealed.problems:
        sys.exit(1)


@audit_group.command(
    "anchor",
    help=(
        "Horodate la tête du journal auprès de l'autorité d'horodatage (RFC 3161) et garde "
        "le jeton : il prouve que le journal, jusqu'à cet événement, existait tel quel à "
        "cette date. Sans autorité, scelle la tête avec la clé de la plateforme dans un "
        "nouveau fichier du stockage (jamais réécrit) : une troncature du journal est alors "
        "détectée. À lancer périodiquement ; ne fait rien si le journal n'a pas bougé. "
        "Code de sortie 1 si l'autorité ou le scellement échoue."
    ),
)
def anchor() -> None:
    outcome = workflow.anchor(runtime().collaborators(utcnow()))
    if outcome.notice is not None:
        click.echo(outcome.notice)
    if outcome.failed:
        click.echo(outcome.message, err=True)
        sys.exit(1)
    click.echo(outcome.message)
