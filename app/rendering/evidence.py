"""The evidence file (dossier de preuve) as a PDF/A-3b, from its JSON form.

The JSON keeps the stored values (statuses, ISO timestamps, journal actions) for machines;
the PDF is read by a person, so everything in it is French: statuses by their label, dates
in words in Europe/Paris, and each journal event as a sentence naming who did what."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from app.rendering.contract import CONTRACT_ASSETS_DIR
from app.rendering.french import de, format_date, format_datetime
from app.rendering.jinja import make_environment, render_template
from app.rendering.labels import EVIDENCE_OTHER, EVIDENCE_SENTENCES, STATUS_LABELS
from app.rendering.pdf import ASSETS_BASE_URL, render_pdf

EVIDENCE_TEMPLATE = "evidence.html"


def _when(iso: str | None) -> str:
    return format_datetime(datetime.fromisoformat(iso)) if iso else "—"


def _who(actor: str, subject: str, signers: Mapping[str, str], users: Mapping[str, str]) -> str:
    """The person an event is about: the signer it concerns, else the one who acted."""
    kind, _, ident = subject.partition(":")
    if kind == "signer" and ident in signers:
        return signers[ident]
    kind, _, ident = actor.partition(":")
    if kind == "signer" and ident in signers:
        return signers[ident]
    if kind == "user":
        return users.get(ident) or f"l'utilisateur n° {ident} de la plateforme"
    if kind == "token":
        return f"une application autorisée (jeton n° {ident})"
    return "la plateforme"


def event_sentence(
    event: Mapping[str, Any], signers: Mapping[str, str], users: Mapping[str, str]
) -> str:
    """``Le 5 décembre 2026 à 14 h 03, Marie Dupont a saisi le code à usage unique.``"""
    who = _who(event["actor"], event["subject"], signers, users)
    said = EVIDENCE_SENTENCES.get(event["action"], EVIDENCE_OTHER).format(who=who, de_who=de(who))
    return f"Le {_when(event['at'])}, {said}."


def evidence_context(e: Mapping[str, Any]) -> dict[str, Any]:
    """What the template prints, already in French."""
    names = {str(s["id"]): s["name"] for s in e["signers"] if "id" in s}
    request = e["request"]
    return {
        "e": e,
        "request_status": STATUS_LABELS["RequestStatus"][request["status"]],
        "created_at": _when(request["created_at"]),
        "sealed_at": _when(request["sealed_at"]),
        "cgv_effective": format_date(datetime.fromisoformat(e["cgv"]["effective_date"]).date()),
        "signers": [
            {
                "s": s,
                "status": STATUS_LABELS["SignerStatus"][s["status"]],
                "opened_at": _when(s["authentication"]["link_opened_at"]),
                "code_verified_at": _when(s["authentication"]["code_verified_at"]),
                "signed_at": _when(s["signed_at"]),
                "cgv_accepted_at": _when((s["accepted_cgv"] or {}).get("accepted_at")),
            }
            for s in e["signers"]
        ],
        "events": [
            {"sentence": event_sentence(ev, names, e.get("users", {})), "hash": ev["hash"]}
            for ev in e["events"]
        ],
    }


def render_evidence_pdf(evidence: Mapping[str, Any]) -> bytes:
    html = render_template(make_environment(), EVIDENCE_TEMPLATE, evidence_context(evidence))
    return render_pdf(html, base_url=ASSETS_BASE_URL, assets_dir=CONTRACT_ASSETS_DIR)
