"""The `paraphe` command: Flask's command group over the application factory.

Apart from `app.cli` (the commands, registered on the application by the factory), so that the
factory can import the commands and this entry point the factory, without a cycle."""

from __future__ import annotations

import sys
from typing import Any

import click
from flask import Flask
from flask.cli import FlaskGroup

from app.cli_words import LIBRARY_COMMANDS, TOP_OPTIONS, in_french, speak_french, with_option_help
from app.config import ConfigError
from app.factory import create_app


def _create_app() -> Flask:
    try:
        return create_app()
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)


HELP = """Paraphe : la commande d'exploitation.

\b
paraphe db upgrade | db check           migrations du schéma
paraphe users create|password|deactivate
                                        utilisateurs par rôle (mot de passe changé ou
                                        compte désactivé : toutes ses sessions closes)
paraphe tokens create|list|revoke       jetons d'API (montrés une fois, gardés hachés)
paraphe cgv publish …                   publie une version des CGV depuis un fichier
paraphe contracts bulk --author …       génère les contrats des devis en attente
paraphe seal status                     certificat de cachet : sujet, échéance
paraphe invoices run|pdfs|remind|rate|revise
                                        facturation : période, PDF, relances, taux,
                                        révision Syntec
paraphe demo                            données de démonstration (défauts embarqués)
paraphe storage scrub | migrate --to …  revérifie les documents ; copie vers S3
paraphe audit verify | anchor           chaîne du journal ; horodatage de sa tête
paraphe jobs purge [--dry-run]          efface ce dont la conservation a expiré
paraphe backup [--to …] | prune         sauvegarde scellée et chiffrée
paraphe restore --from …                restaure dans une instance vide, vérifiée
paraphe signatures sweep|remind|expire  travaux des signatures, à la demande
paraphe serve                           serveur de production (granian)
paraphe worker [--workers N]            travaux en arrière-plan et périodiques
paraphe run                             serveur de développement

Chaque commande a son aide : paraphe COMMANDE --help."""


class ParapheGroup(FlaskGroup):
    """Flask's group, speaking French from the first word it prints (see `app.cli_words`)."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        speak_french()
        return super().main(*args, **kwargs)

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        """The commands Flask adds itself (run, shell, routes) and the plugins it loads
        (Flask-Limiter's `limiter`) come with English help: they are added as French copies."""
        if (name or cmd.name) in LIBRARY_COMMANDS:
            cmd = in_french(cmd, LIBRARY_COMMANDS, name)
        super().add_command(cmd, name)


main = ParapheGroup(create_app=_create_app, help=HELP, add_default_commands=True)
with_option_help(main, TOP_OPTIONS)
