"""The `paraphe` command: Flask's command group over the application factory.

Apart from `app.cli` (the commands, registered on the application by the factory), so that the
factory can import the commands and this entry point the factory, without a cycle."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import FlaskGroup

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

main = FlaskGroup(create_app=_create_app, help=HELP, add_default_commands=True)
