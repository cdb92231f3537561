"""What of a job's error reaches job_runs and the admins' page: first lines, no secrets."""

from __future__ import annotations

import hashlib

import pytest

from app.job_runs.redaction import MAX_CHARS, error_summary, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "could not connect to postgresql://paraphe:hunter2@db:5432/paraphe",
            "could not connect to postgresql://paraphe:***@db:5432/paraphe",
        ),
        ("redis://:motdepasse@cache:6379/0 down", "redis://:***@cache:6379/0 down"),
        (
            "host=db user=paraphe password=hunter2 dbname=x",
            "host=db user=paraphe password=*** dbname=x",
        ),
        (
            "Settings(seal_pkcs12_passphrase='abc-def')",
            "Settings(seal_pkcs12_passphrase='***')",
        ),
        ("Authorization: Bearer abc.def.ghi", "Authorization: Bearer ***"),
        (
            "lien /signature/" + "Ab3_-" * 9 + " inconnu",
            "lien /signature/*** inconnu",
        ),
        ("aucun secret ici : demande n° 12", "aucun secret ici : demande n° 12"),
    ],
)
def test_secrets_are_masked(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_a_sha256_stays_readable() -> None:
    digest = hashlib.sha256(b"revision").hexdigest()
    assert redact(f"SHA-256 attendu {digest}") == f"SHA-256 attendu {digest}"


def test_summary_keeps_the_type_and_the_first_lines() -> None:
    error = RuntimeError("\n".join(f"ligne {n}" for n in range(1, 9)))
    assert error_summary(error) == "RuntimeError : ligne 1\nligne 2\nligne 3\nligne 4\nligne 5\n…"
    assert error_summary(KeyError()) == "KeyError"
    long = error_summary(ValueError("x " * 2000))
    assert len(long) == MAX_CHARS and long.endswith("…")
