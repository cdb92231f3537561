"""The evidence file's events name the signer with « de » elided before a vowel."""

from __future__ import annotations

from app.rendering.evidence import event_sentence

AT = "2026-12-05T13:03:00+00:00"
SIGNERS = {"1": "Élodie Dupré", "2": "Paul Martin"}


def _said(action: str, signer: str) -> str:
    event = {"actor": "public", "subject": f"signer:{signer}", "action": action, "at": AT}
    return event_sentence(event, SIGNERS, {})


def test_the_link_of_a_signer_is_named_with_an_elided_de() -> None:
    assert _said("signature.code_refused", "1").endswith(
        ", un code erroné a été saisi sur le lien d'Élodie Dupré."
    )
    assert _said("signature.locked", "1").endswith(
        ", le lien d'Élodie Dupré a été bloqué après trop de codes erronés."
    )
    assert _said("signature.code_refused", "2").endswith(
        ", un code erroné a été saisi sur le lien de Paul Martin."
    )
    assert "de Élodie" not in _said("signature.locked", "1")
