"""The `paraphe` operator command, run through Click's runner on the real app."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from app.auth.models import ApiToken, User
from app.db import transaction


def _create_user(
    runner: FlaskCliRunner, email: str, *, name: str, role: str, password: str
) -> Result:
    """`paraphe users create`, as an operator types it."""
    return runner.invoke(
        args=[
            *("users", "create", "--email", email, "--name", name),
            *("--role", role, "--password", password),
        ]
    )


@pytest.mark.committed_db  # `demo` and `db check` migrate on their own connection
def test_users_tokens_and_demo(app: Flask) -> None:
    runner = app.test_cli_runner()
    result = _create_user(
        runner,
        "Vente@Example.fr",
        name="Véronique Vente",
        role="sales",
        password="mot-de-passe-long",
    )
    assert result.exit_code == 0, result.output
    refused = _create_user(
        runner, "vente@example.fr", name="X", role="sales", password="mot-de-passe-long"
    )
    assert refused.exit_code != 0 and "existe déjà" in refused.output
    short = _create_user(runner, "b@example.fr", name="B", role="legal", password="court")
    assert short.exit_code != 0 and "12 caractères" in short.output

    created = runner.invoke(args=["tokens", "create", "--name", "GED", "--scope", "read"])
    assert created.exit_code == 0, created.output
    plaintext = created.stdout.strip().splitlines()[-1]
    assert plaintext.startswith("pph_")
    with transaction(app.extensions["paraphe"].session_factory) as session:
        token = session.scalar(select(ApiToken))
        assert token is not None and plaintext not in token.token_hash
        user = session.scalar(select(User).where(User.email == "vente@example.fr"))
        assert user is not None and "mot-de-passe-long" not in user.password_hash
    revoked = runner.invoke(args=["tokens", "revoke", str(token.id)])
    assert revoked.exit_code == 0
    listing = runner.invoke(args=["tokens", "list"])
    assert "révoqué" in listing.output

    demo = runner.invoke(args=["demo"])
    assert demo.exit_code == 0, demo.output
    assert "commercial@demo.paraphe.fr" in demo.output
    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0 and again.output == demo.output  # idempotent, same credentials
    assert (app.extensions["paraphe"].settings.instance_dir / "demo-credentials.json").exists()

    check = runner.invoke(args=["db", "check"])
    assert check.exit_code == 0, check.output


def test_serve_refuses_bad_numbers_before_starting_anything(app: Flask) -> None:
    runner = app.test_cli_runner()
    for option, value in (("--workers", "0"), ("--threads", "-1"), ("--port", "http")):
        result = runner.invoke(args=["serve", option, value])
        assert result.exit_code == 2, (option, result.output)
        assert option in result.output


def test_cgv_publish_says_which_late_payment_rule_it_read(app: Flask, tmp_path: Path) -> None:
    body = tmp_path / "cgv.md"
    body.write_text(
        "# CGV\n\n## Article 6. Retards\n\nPénalités : trois fois le taux d'intérêt légal.\n",
        encoding="utf-8",
    )
    runner = app.test_cli_runner()
    done = runner.invoke(
        args=["cgv", "publish", "--label", "6.0", "--effective", "2024-01-01", "--file", str(body)]
    )
    assert done.exit_code == 0, done.output
    assert (
        "Pénalités de retard lues dans le texte : trois fois le taux d'intérêt légal, "
        "selon l'article 6 (Retards)."
    ) in done.output
    silent = tmp_path / "silent.md"
    silent.write_text("# CGV\n\n## Article 1. Objet\n\nLe service.\n", encoding="utf-8")
    done = runner.invoke(
        args=[
            "cgv",
            "publish",
            "--label",
            "6.1",
            "--effective",
            "2024-02-01",
            "--file",
            str(silent),
        ]
    )
    assert done.exit_code == 0, done.output
    assert "aucun taux énoncé, le taux de l'article L441-10" in done.output


def test_the_password_command_elides_de_before_a_vowel(app: Flask) -> None:
    runner = app.test_cli_runner()
    for address in ("anne@example.fr", "paul@example.fr"):
        created = _create_user(
            runner, address, name="X", role="sales", password="mot-de-passe-long"
        )
        assert created.exit_code == 0, created.output
    said = {
        address: runner.invoke(
            args=["users", "password", "--email", address, "--password", "un-autre-secret-long"]
        ).output
        for address in ("anne@example.fr", "paul@example.fr")
    }
    assert said == {
        "anne@example.fr": "Mot de passe d'anne@example.fr changé ; ses sessions sont fermées.\n",
        "paul@example.fr": "Mot de passe de paul@example.fr changé ; ses sessions sont fermées.\n",
    }


def _create(app: Flask, address: str, *title: str) -> Result:
    return app.test_cli_runner().invoke(
        args=[
            "users",
            "create",
            "--email",
            address,
            "--name",
            "Claire Commerciale",
            "--role",
            "sales",
            "--password",
            "mot-de-passe-long",
            *title,
        ]
    )


def _title_of(app: Flask, address: str) -> str | None:
    with transaction(app.extensions["paraphe"].session_factory) as session:
        return session.scalars(select(User.title).where(User.email == address)).one()


def test_users_create_takes_the_title_the_web_form_would(app: Flask) -> None:
    created = _create(app, "claire@example.fr", "--title", " Directrice commerciale ")
    assert created.exit_code == 0, created.output
    said = created.output.strip()
    assert said.startswith("Utilisateur n° ") and said.endswith(", Directrice commerciale)."), said
    assert _title_of(app, "claire@example.fr") == "Directrice commerciale"  # trimmed, as the form
    assert _create(app, "sans@example.fr").exit_code == 0
    assert _title_of(app, "sans@example.fr") is None  # none given: none printed

    # refused in French, with the web form's limit and characters, and nobody is created
    for typed, said in (
        ("D" * 121, "--title : 120 caractères au maximum."),
        ("Directrice\x07commerciale", "Caractère de contrôle interdit (U+0007)"),
        ("Directrice \u202ecommerciale", "Caractère de contrôle du sens d'écriture interdit"),
    ):
        refused = _create(app, "refus@example.fr", "--title", typed)
        assert refused.exit_code == 2, refused.output
        assert said in refused.output, refused.output
    with transaction(app.extensions["paraphe"].session_factory) as session:
        assert session.scalar(select(User).where(User.email == "refus@example.fr")) is None
