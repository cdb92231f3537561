"""The verification report in words anyone understands: one line first (intact, signed by
whom and when, or modified after whose signature), then one sentence per signature.

Built from the report's facts (intact, valid, trusted, later changes), never from pyHanko's
English ``problem`` string; an integrity problem is named before any certificate question,
since a modified document is the finding that matters. French by default, English for an
API client that prefers it; times are Europe/Paris, in words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from babel.dates import format_date as babel_format_date

from app.clock import PARIS
from app.rendering.french import de, format_datetime
from app.signatures.rules import CERTIFICATION_FIELD, EVIDENCE_FIELD, SEAL_FIELD
from signing import (
    ModificationLevel,
    PadesLevel,
    SignatureKind,
    SignatureReport,
    SigningTimeSource,
    VerificationReport,
)

Language = Literal["fr", "en"]

# The platform's own fields, by what a reader calls them (French, English).
_PLATFORM_NAMES = {
    CERTIFICATION_FIELD: ("Certification de la plateforme", "Platform certification"),
    SEAL_FIELD: ("Cachet de la plateforme", "Platform seal"),
    EVIDENCE_FIELD: ("Cachet du dossier de preuve", "Evidence file seal"),
}
_SEALS = (SEAL_FIELD, EVIDENCE_FIELD)


@dataclass(frozen=True)
class Verdict:
    ok: bool  # intact, valid, trusted, nothing changed since: the reassuring verdict
    summary: str  # the one line shown first
    details: tuple[str, ...]  # one sentence per signature, in the file's order


def verdict(report: VerificationReport, lang: Language = "fr") -> Verdict:
    ok, line = _summary(report, lang)
    return Verdict(ok, line, tuple(_detail(s, lang) for s in report.signatures))


def _t(lang: Language, fr: str, en: str) -> str:
    return en if lang == "en" else fr


def _name(sig: SignatureReport, lang: Language) -> str:
    return (
        sig.claimed_signer_name
        or sig.signer_common_name
        or _t(lang, "un signataire non nommé", "an unnamed signer")
    )


def _when(value: datetime, lang: Language) -> str:
    if lang == "fr":
        return format_datetime(value)
    local = value.astimezone(PARIS)
    day = babel_format_date(local.date(), "d MMMM y", locale="en_GB")
    return f"{day} at {local:%H:%M} (Paris time)"


def _tampered(sig: SignatureReport) -> bool:
    """The signed bytes no longer match, or a later revision changed what it may not."""
    return (
        not sig.intact
        or sig.docmdp_ok is False
        or sig.modification_level is ModificationLevel.OTHER
    )


def _problem(sig: SignatureReport, lang: Language) -> str | None:
    """Why the signature is not ok, the most serious reason first."""
    if not sig.intact:
        return _t(
            lang,
            "le contenu signé a été modifié après cette signature",
            "the signed content was modified after this signature",
        )
    if _tampered(sig):
        return _t(
            lang,
            "le document a été modifié ensuite, au-delà des signatures et du remplissage "
            "des champs",
            "the document was changed afterwards beyond signatures and form filling",
        )
    if not sig.valid:
        return _t(
            lang,
            "la signature cryptographique ne se vérifie pas",
            "the cryptographic signature does not verify",
        )
    if not sig.trusted:
        return _t(
            lang,
            "le certificat n'est pas émis par une autorité reconnue par la plateforme",
            "the certificate is not issued by an authority this platform trusts",
        )
    return None


def _signers(report: VerificationReport) -> list[SignatureReport]:
    return [
        s
        for s in report.signatures
        if s.kind is SignatureKind.SIGNATURE and s.field_name not in _PLATFORM_NAMES
    ]


def _signed_by(signers: list[SignatureReport], lang: Language) -> str:
    parts = []
    for sig in signers:
        if sig.signing_time is None:
            parts.append(f"{_name(sig, lang)} {_t(lang, '(date non indiquée)', '(no date)')}")
        else:
            parts.append(
                f"{_name(sig, lang)} {_t(lang, 'le', 'on')} {_when(sig.signing_time, lang)}"
            )
    return _joined(parts, lang)


def _joined(names: list[str], lang: Language) -> str:
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + _t(lang, " et ", " and ") + names[-1]


def _modified(report: VerificationReport, lang: Language) -> str | None:
    """The integrity finding, naming whose signature the change came after: the signers
    first (what a reader cares about), else the platform's seal, else its certification."""
    broken = [s for s in report.signatures if _tampered(s)]
    if not broken:
        return None
    signers = [_name(s, lang) for s in broken if s.field_name not in _PLATFORM_NAMES]
    if signers:
        names = _joined(signers, lang)
        return _t(
            lang,
            f"Document modifié après la signature {de(names)}",
            f"Document modified after {names} signed it",
        )
    if any(s.field_name in _SEALS for s in broken):
        return _t(
            lang,
            "Document modifié après le cachet de la plateforme",
            "Document modified after the platform sealed it",
        )
    return _t(
        lang,
        "Document modifié après sa préparation par la plateforme",
        "Document modified after the platform prepared it",
    )


def _summary(report: VerificationReport, lang: Language) -> tuple[bool, str]:
    sigs = report.signatures
    if not sigs:
        return False, _t(
            lang, "Ce PDF ne contient aucune signature.", "This PDF contains no signature."
        )
    # Integrity first: the first signature whose content changed is the one to name.
    modified = _modified(report, lang)
    if modified is not None:
        return False, modified
    invalid = next((s for s in sigs if not s.valid), None)
    if invalid is not None:
        name = _name(invalid, lang)
        return False, _t(
            lang,
            f"Signature {de(name)} invalide : elle ne se vérifie pas",
            f"Signature of {name} invalid: it does not verify",
        )
    line = _t(lang, "Document intact", "Document intact")
    signers = _signers(report)
    if signers:
        line += _t(lang, ", signé par ", ", signed by ") + _signed_by(signers, lang)
    seals = [s for s in sigs if s.field_name in _SEALS]
    if not seals:
        line += _t(lang, " ; sans cachet de la plateforme", "; no platform seal")
    elif all(s.trusted for s in seals):
        line += _t(lang, " ; cachet de la plateforme valide", "; platform seal valid")
    else:
        line += _t(lang, " ; cachet de la plateforme non reconnu", "; platform seal not recognised")
    strangers = [_name(s, lang) for s in signers if not s.trusted]
    if strangers:
        line += _t(
            lang,
            f" ; certificat non reconnu pour {', '.join(strangers)}",
            f"; certificate not recognised for {', '.join(strangers)}",
        )
    return all(s.trusted for s in sigs), line


def _detail(sig: SignatureReport, lang: Language) -> str:
    if sig.field_name in _PLATFORM_NAMES:
        fr, en = _PLATFORM_NAMES[sig.field_name]
        who = _t(lang, fr, en)
    elif sig.kind is SignatureKind.DOCUMENT_TIMESTAMP:
        who = _t(lang, "Horodatage du document", "Document timestamp")
    else:
        who = _t(lang, f"Signature {de(_name(sig, lang))}", f"Signature of {_name(sig, lang)}")
    who += _t(lang, f" (champ « {sig.field_name} »)", f" (field “{sig.field_name}”)")
    problem = _problem(sig, lang)
    if problem is not None:
        return f"{who}{_t(lang, ' : ', ': ')}{problem}."
    facts = [_t(lang, "intègre, certificat reconnu", "intact, certificate recognised")]
    if sig.signing_time is not None:
        source = (
            _t(lang, "heure attestée par un horodatage", "time proven by a timestamp")
            if sig.signing_time_source is SigningTimeSource.TIMESTAMP
            else _t(lang, "heure déclarée par le signataire", "time stated by the signer")
        )
        facts.append(f"{_t(lang, 'le', 'on')} {_when(sig.signing_time, lang)} ({source})")
    if sig.pades_level is not None and sig.pades_level is not PadesLevel.NOT_PADES:
        facts.append(_t(lang, "niveau PAdES ", "PAdES level ") + sig.pades_level.value)
    return f"{who}{_t(lang, ' : ', ': ')}{', '.join(facts)}."
