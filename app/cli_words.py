"""The `paraphe` command in French: Click's own words (« Utilisation : », « Options », its
refusals) and the help of the commands and options Paraphe takes from Flask and Flask-Limiter.

Click marks its sentences for gettext and looks them up, at each use, in the process's default
gettext domain: binding that domain to Paraphe's catalogue (`locale/fr/LC_MESSAGES/
paraphe-cli.po`, compiled beside it) is the way Click documents for translating it, with no
change to Click. French unless the operator asks otherwise with `LANGUAGE` (e.g. `LANGUAGE=en`
gives Click's English). Flask's and Flask-Limiter's help texts are plain strings: their
commands are copied with French texts, so the libraries' own objects stay as they are.
"""

from __future__ import annotations

import copy
import gettext
import os
from pathlib import Path
from typing import TypeVar

import click

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "paraphe-cli"

CommandT = TypeVar("CommandT", bound=click.Command)

# Flask's group options (`paraphe --help`).
TOP_OPTIONS = {
    "env_file": "Charge les variables d'environnement de ce fichier (python-dotenv).",
    "app": "L'application Flask à charger (module:nom) ; Paraphe la trouve sans cette option.",
    "debug": "Mode débogage (serveur de développement seulement).",
    "version": "Affiche les versions de Flask, Werkzeug et Python.",
}

# The commands Flask and its plugins add, by name (subcommands too): (help, {option: help}).
LIBRARY_COMMANDS: dict[str, tuple[str, dict[str, str]]] = {
    "run": (
        "Serveur de développement (rechargement et débogueur de Werkzeug) : jamais en "
        "production, où `paraphe serve` sert l'application.",
        {
            "debug": "Mode débogage.",
            "host": "Interface d'écoute.",
            "port": "Port d'écoute.",
            "cert": "Certificat pour servir en HTTPS.",
            "key": "Clé privée du certificat donné par --cert.",
            "reload": "Recharge à chaque modification du code (par défaut en mode débogage).",
            "debugger": "Débogueur interactif (par défaut en mode débogage).",
            "with_threads": "Une requête par fil d'exécution.",
            "extra_files": "Autres fichiers à surveiller pour recharger (séparés par « : »).",
            "exclude_patterns": "Motifs fnmatch des fichiers à ne pas surveiller (séparés "
            "par « : »).",
        },
    ),
    "shell": ("Console Python interactive dans le contexte de l'application.", {}),
    "routes": (
        "Liste les routes de l'application, avec leurs points d'entrée et leurs méthodes.",
        {
            "sort": "Tri des routes ; « match » : l'ordre dans lequel Flask les essaie.",
            "all_methods": "Montre aussi les méthodes HEAD et OPTIONS.",
        },
    ),
    # Flask-Limiter's group (the rate limits shared across processes) and its subcommands.
    "limiter": ("Limites de débit : configuration, état, remise à zéro.", {}),
    "config": ("Affiche la configuration des limites de débit.", {}),
    "limits": (
        "Liste les routes soumises à une limite de débit, et leur état pour une clé.",
        {
            "endpoint": "Seulement ce point d'entrée.",
            "path": "Seulement ce chemin.",
            "method": "Seulement cette méthode HTTP.",
            "key": "La clé dont montrer l'état (par ex. une adresse IP).",
            "watch": "Tableau de bord rafraîchi en continu.",
        },
    ),
    "clear": (
        "Remet à zéro les limites d'une clé (par ex. une adresse IP bloquée à tort).",
        {
            "endpoint": "Seulement ce point d'entrée.",
            "path": "Seulement ce chemin.",
            "method": "Seulement cette méthode HTTP.",
            "key": "La clé dont remettre les limites à zéro.",
            "y": "Sans demander de confirmation.",
        },
    ),
}


def speak_french() -> None:
    """Click's words from Paraphe's catalogue, in French unless `LANGUAGE` says otherwise."""
    if not os.environ.get("LANGUAGE"):
        os.environ["LANGUAGE"] = "fr"
    gettext.bindtextdomain(DOMAIN, str(LOCALE_DIR))
    gettext.textdomain(DOMAIN)


def with_option_help(command: click.Command, texts: dict[str, str]) -> None:
    """Each option of `command` named in `texts` gets its French help (in place)."""
    for param in command.params:
        if isinstance(param, click.Option) and param.name in texts:
            param.help = texts[param.name]


def in_french(
    command: CommandT, texts: dict[str, tuple[str, dict[str, str]]], name: str | None = None
) -> CommandT:
    """A copy of a library's command (and of its subcommands) with the French help of
    `texts`, keyed by the name it is registered under (`name`; a plugin's group may carry
    another: Flask-Limiter's is `cli`); the library's own object is left untouched."""
    french = copy.deepcopy(command)
    _translate(french, name or french.name, texts)
    return french


def _translate(
    command: click.Command, name: str | None, texts: dict[str, tuple[str, dict[str, str]]]
) -> None:
    if name in texts:
        command.help, options = texts[name]
        command.short_help = None  # else Click lists the English first line
        with_option_help(command, options)
    if isinstance(command, click.Group):
        for sub_name, sub in command.commands.items():
            _translate(sub, sub_name, texts)
