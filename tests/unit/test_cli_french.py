"""`paraphe` speaks French to the operator: Click's own words, every command's and option's
help (Paraphe's, and the copies of Flask's and Flask-Limiter's), and its refusals."""

from __future__ import annotations

import gettext
import re
from pathlib import Path
from typing import Any

import click
import pytest
from babel.messages.pofile import read_po
from click.testing import CliRunner, Result
from flask import cli as flask_cli

from app.cli_words import DOMAIN, LOCALE_DIR, speak_french
from app.console import main

CATALOGUE = LOCALE_DIR / "fr" / "LC_MESSAGES" / f"{DOMAIN}.po"
# Words that give an English sentence away and that no French help uses.
ENGLISH = re.compile(r"\b(the|and|with|this|that|to|of|for|show|run|set|enable|clear)\b", re.I)


def _prose(text: str) -> str:
    """A help text without what is not prose: option names (`--dry-run`), and the lines of
    `paraphe --help` that show commands (`paraphe signatures sweep|remind|expire`)."""
    lines = [line for line in text.splitlines() if not line.strip().startswith("paraphe ")]
    return re.sub(r"--?[\w-]+", " ", "\n".join(lines))


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {"PARAPHE_INSTANCE_DIR": str(tmp_path), "PARAPHE_QUEUE_URL": "inline"}
    env |= {"DATABASE_URL": f"sqlite:///{tmp_path / 'paraphe.db'}", "LANGUAGE": ""}
    return env | extra


def _run(tmp_path: Path, *argv: str, **env: str) -> Result:
    return CliRunner().invoke(main, list(argv), prog_name="paraphe", env=_env(tmp_path, **env))


def test_the_compiled_catalogue_says_what_the_po_file_says() -> None:
    """Click reads the compiled `.mo`; an edit of the `.po` must be compiled with it
    (`.venv/bin/pybabel compile -D paraphe-cli -d app/locale -l fr`)."""
    with CATALOGUE.open("rb") as po:
        catalog = read_po(po, locale="fr")
    with CATALOGUE.with_suffix(".mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    entries = [message for message in catalog if message.id and message.string]
    assert len(entries) >= 50
    for message in entries:
        ids, strings = message.id, message.string
        if isinstance(ids, tuple) and isinstance(strings, tuple):  # singular and plural
            for n, form in ((1, 0), (2, 1)):
                assert compiled.ngettext(ids[0], ids[1], n) == strings[form], ids
        else:
            assert isinstance(ids, str)
            assert compiled.gettext(ids) == strings, ids


def _every_command(tmp_path: Path) -> list[tuple[list[str], click.Command]]:
    """Every command under `paraphe`, the application's included (Flask loads them lazily)."""
    found: list[tuple[list[str], click.Command]] = []

    def walk(command: click.Command, path: list[str], ctx: click.Context) -> None:
        found.append((path, command))
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                assert sub is not None, name
                walk(sub, [*path, name], ctx)

    with pytest.MonkeyPatch.context() as patch:
        for key, value in _env(tmp_path).items():
            patch.setenv(key, value)
        # As `paraphe` does before anything: Click words its help option once per command.
        speak_french()
        with main.make_context("paraphe", ["--help"], resilient_parsing=True) as ctx:
            walk(main, [], ctx)
    return found


def test_every_command_and_option_is_explained_in_french(tmp_path: Path) -> None:
    commands = _every_command(tmp_path)
    names = {" ".join(path) for path, _ in commands}
    assert {"users create", "tokens create", "run", "limiter clear", "invoices rate"} <= names

    problems: list[str] = []
    for path, command in commands:
        texts: dict[str, str | None] = {"": command.help or command.short_help}
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden:
                texts[param.opts[-1]] = param.help
        for where, text in texts.items():
            if not text:
                problems.append(f"paraphe {' '.join(path)} {where}: no help")
            elif ENGLISH.search(_prose(text)):
                problems.append(f"paraphe {' '.join(path)} {where}: {text[:60]!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("argv", [[], ["tokens", "create"], ["limiter", "clear"], ["run"]])
def test_the_help_pages_are_french_from_the_first_word(tmp_path: Path, argv: list[str]) -> None:
    done = _run(tmp_path, *argv, "--help")
    assert done.exit_code == 0, done.output
    assert done.output.startswith(f"Utilisation : paraphe {' '.join(argv)}".rstrip())
    assert "Affiche cette aide et s'arrête." in done.output
    assert "Show this message" not in done.output and "Usage:" not in done.output


def test_a_refusal_says_what_is_missing_in_french(tmp_path: Path) -> None:
    done = _run(tmp_path, "tokens", "create", "--scope", "read")
    assert done.exit_code == 2
    assert "Erreur : Option manquante '--name'." in done.output
    assert "Aide : paraphe tokens create --help" in done.output

    mistyped = _run(tmp_path, "tokens", "creat")
    assert mistyped.exit_code == 2
    assert "Commande inconnue : 'creat'. Vouliez-vous dire 'create' ?" in mistyped.output


def test_an_operator_who_asks_for_english_gets_clicks_english(tmp_path: Path) -> None:
    done = _run(tmp_path, "tokens", "create", "--scope", "read", LANGUAGE="en")
    assert done.exit_code == 2
    assert "Error: Missing option '--name'." in done.output


def test_flasks_own_commands_are_copied_not_changed() -> None:
    """Other Flask applications in the same process keep Flask's texts."""
    run: Any = flask_cli.run_command
    assert run.help.startswith("Run a local development server.")
    assert main.get_command(click.Context(main), "run") is not run
