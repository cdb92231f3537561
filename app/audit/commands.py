"""`paraphe audit …`: checking the hash-chained journal, and timestamping its head."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click
from flask.cli import AppGroup

from app.audit import services
from app.db import utcnow
from app.pki import trust_roots
from app.wiring import runtime, unit_of_work
from signing import SigningError, TimestampError
from storage import StorageError

NO_TSA = (
    "Aucune autorité d'horodatage n'est configurée (PARAPHE_TSA_URL) : "
    "la tête du journal n'est pas horodatée."
)
SEALED_INSTEAD = (
    "Sans autorité d'horodatage, la tête du journal est scellée avec la clé de la plateforme "
    "dans le stockage des fichiers, hors de portée de la base."
)


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
        anchors = services.verify_anchors(session, trust_roots(rt.settings))
        missing = services.verify_anchor_records(session)
        sealed = services.verify_sealed_anchors(session, rt.store, trust_roots(rt.settings))
    broken = [a for a in anchors if a.problem is not None]
    if not problems:
        click.echo(f"Journal intact : {count} événement(s), chaîne d'empreintes vérifiée.")
    else:
        click.echo(f"Journal ROMPU ({count} événement(s) lus) :")
        for problem in problems:
            where = f"n° {problem.event_id}" if problem.event_id is not None else "—"
            click.echo(f"  [{where}] {problem.message}")
    if sealed.anchors and not sealed.problems:
        newest = sealed.anchors[-1]
        click.echo(
            f"Ancres scellées valides : {len(sealed.anchors)} ; la dernière "
            f"({_when(newest.anchored_at)}) atteste les événements n° 1 à {newest.event_id}."
        )
    elif sealed.problems:
        click.echo("Ancres scellées : journal NON CONFORME :")
        for sentence in sealed.problems:
            click.echo(f"  {sentence}")
    if not anchors:
        click.echo(
            f"{NO_TSA} {SEALED_INSTEAD}"
            if rt.settings.tsa_url is None
            else "Aucun horodatage enregistré : "
            "lancez `paraphe audit anchor` (périodiquement, par exemple chaque heure)."
        )
        if rt.settings.tsa_url is None and not sealed.anchors and not sealed.problems:
            click.echo(
                "Aucune ancre scellée : lancez `paraphe audit anchor` "
                "(périodiquement, par exemple chaque heure)."
            )
    elif not broken:
        last = anchors[-1]
        click.echo(
            f"Horodatages valides : {len(anchors)} ; le dernier ({_when(last.timestamped_at)}, "
            f"{last.report.tsa_common_name}) couvre les événements n° 1 à {last.event_id}."
        )
    else:
        click.echo(f"Horodatages INVALIDES ({len(broken)} sur {len(anchors)}) :")
        for check in broken:
            click.echo(
                f"  [horodatage {check.anchor_id}, événement n° {check.event_id}, "
                f"{_when(check.timestamped_at)}] {check.problem}"
            )
    if missing:
        click.echo("Horodatages journalisés MANQUANTS :")
        for sentence in missing:
            click.echo(f"  {sentence}")
    if problems or broken or missing or sealed.problems:
        sys.exit(1)


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


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
    rt = runtime()
    trust = rt.trust_services()
    if trust is None or rt.settings.tsa_url is None:
        _seal_head()
        return
    try:
        with unit_of_work() as session:
            made = services.anchor_head(
                session,
                timestamp=trust.timestamp_digest,
                tsa_url=rt.settings.tsa_url,
                trust_roots=trust_roots(rt.settings),
                now=utcnow(),
            )
            if made is not None:
                message = (
                    f"Tête du journal horodatée : événement n° {made.event_id} "
                    f"(empreinte {made.head_hash[:16]}…), jeton du {_when(made.timestamped_at)}."
                )
    except (TimestampError, services.AnchorRefused) as exc:
        click.echo(f"Horodatage impossible, rien n'est enregistré : {exc}", err=True)
        sys.exit(1)
    if made is None:
        message = "Rien à horodater : journal vide, ou sa tête est déjà horodatée."
    click.echo(message)


def _seal_head() -> None:
    rt = runtime()
    click.echo(f"{NO_TSA} {SEALED_INSTEAD}")
    try:
        with unit_of_work() as session:
            made = services.seal_head(session, rt.store, rt.signing_key(), now=utcnow())
    except (SigningError, StorageError) as exc:
        click.echo(f"Scellement impossible, rien n'est enregistré : {exc}", err=True)
        sys.exit(1)
    if made is None:
        click.echo("Rien à sceller : journal vide, ou sa tête est déjà scellée.")
        return
    click.echo(
        f"Tête du journal scellée : événement n° {made.event_id} "
        f"(empreinte {made.head_hash[:16]}…), ancre {made.blob[:16]}… du {_when(made.anchored_at)}."
    )
