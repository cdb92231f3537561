"""`paraphe serve` warns when the links it mails would lead to another port of this machine
(a walk served on 5091 mailed signing links to :5000, someone else's server)."""

from __future__ import annotations

import pytest

from app.cli import links_elsewhere


@pytest.mark.parametrize(
    ("base_url", "port"),
    [
        ("http://127.0.0.1:5000", 5000),
        ("http://localhost:8000/", 8000),
        ("http://127.0.0.1", 80),
        ("https://localhost", 443),
        # a public address behind a proxy: the port served is the proxy's business
        ("https://contrats.exemple.fr", 8000),
        ("http://10.0.0.12:5000", 8000),
    ],
)
def test_nothing_to_say(base_url: str, port: int) -> None:
    assert links_elsewhere(base_url, port) is None


def test_another_port_of_this_machine_is_named_with_the_fix() -> None:
    said = links_elsewhere("http://127.0.0.1:5000", 5091)
    assert said is not None
    assert "PARAPHE_BASE_URL vaut http://127.0.0.1:5000" in said
    assert "écoute sur le port 5091" in said
    assert said.endswith("Lancez-le avec PARAPHE_BASE_URL=http://127.0.0.1:5091.")
    assert links_elsewhere("http://localhost", 5000) is not None
