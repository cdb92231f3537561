"""Verifying every signature and document timestamp in a PDF.

A signature that fails to verify is a finding, not an error: it is reported
(``intact=False``, ``valid=False``, with ``problem`` saying why) and
:func:`verify_pdf` raises only when the input cannot be read at all.

Like signing, this uses pyHanko's event loop through ``asyncio.run``: do not
call it inside a running event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel as PyHankoModificationLevel
from pyhanko.sign.fields import enumerate_sig_fields
from pyhanko.sign.validation import (
    EmbeddedPdfSignature,
    SignatureCoverageLevel,
    async_validate_pdf_signature,
    async_validate_pdf_timestamp,
)
from pyhanko.sign.validation.status import DocumentTimestampStatus, PdfSignatureStatus
from pyhanko_certvalidator import ValidationContext

from signing import _pdf
from signing._sync import refuse_running_loop
from signing.errors import InvalidPdfError, TrustRootError

__all__ = [
    "Coverage",
    "ModificationLevel",
    "PadesLevel",
    "SignatureKind",
    "SignatureReport",
    "SigningTimeSource",
    "VerificationReport",
    "verify_pdf",
]


class SignatureKind(StrEnum):
    SIGNATURE = "signature"
    DOCUMENT_TIMESTAMP = "document timestamp"


class Coverage(StrEnum):
    """How much of the file the signature's byte range covers."""

    ENTIRE_FILE = "entire file"
    ENTIRE_REVISION = "entire revision"  # normal for all but the last signature
    CONTIGUOUS_BLOCK = "contiguous block from start"
    UNCLEAR = "unclear"


class ModificationLevel(StrEnum):
    """What later revisions changed, per pyHanko's difference analysis."""

    NONE = "none"
    LTA_UPDATES = "LTA updates"  # validation data and document timestamps only
    FORM_FILLING = "form filling"  # e.g. later signers filling their own fields
    ANNOTATIONS = "annotations"
    OTHER = "other"  # anything else: treat as a modified document


class PadesLevel(StrEnum):
    """Best guess at the PAdES baseline level, from what the file contains.

    A guess: B-LT and B-LTA are inferred from the presence of a document
    security store and of a later document timestamp, not from checking that
    they hold this signature's validation data.
    """

    NOT_PADES = "not PAdES"
    B_B = "B-B"
    B_T = "B-T"
    B_LT = "B-LT"
    B_LTA = "B-LTA"


class SigningTimeSource(StrEnum):
    TIMESTAMP = "timestamp"  # proven by a timestamp authority
    SIGNER_CLAIM = "signer claim"  # signed attribute or /M entry: the signer's clock


@dataclass(frozen=True)
class SignedBytesChecks:
    """pyHanko's three findings about a signature over bytes, checked outside a PDF (a detached
    seal, a timestamp token): the base of their reports, which add who signed and when.
    ``valid`` alone says nothing about the bytes: use :attr:`ok`."""

    intact: bool  # the bytes hash to the signed digest
    valid: bool  # the signature value verifies with the signer's certificate key
    trusted: bool  # ... and that certificate chains up to a trust root

    @property
    def ok(self) -> bool:
        return self.intact and self.valid and self.trusted


@dataclass(frozen=True)
class SignatureReport:
    """What is known about one signature or document timestamp."""

    field_name: str
    kind: SignatureKind
    signer_common_name: str | None
    signer_subject: str | None
    claimed_signer_name: str | None  # the signature dictionary's /Name
    signing_time: datetime | None
    signing_time_source: SigningTimeSource | None
    timestamped: bool
    # pyHanko's three checks. ``valid`` alone says nothing about the document
    # (a tampered file keeps a valid signature value): use :attr:`ok`.
    intact: bool  # the signed byte ranges still hash to the signed digest
    valid: bool  # the signature value verifies with the certificate's key
    trusted: bool  # intact, valid, and the certificate chains up to a trust root
    modification_level: ModificationLevel | None
    docmdp_ok: bool | None
    coverage: Coverage | None
    pades_level: PadesLevel | None  # None for document timestamps
    problem: str | None = None  # why the signature is not :attr:`ok`, in words

    @property
    def ok(self) -> bool:
        """Intact, valid, trusted, and later revisions changed nothing they should not.

        Later revisions may add signatures, fill fields, add validation data
        and document timestamps (and annotations, unless a certification
        forbids them); any other change, such as drawing on a page, is not ok.
        """
        return (
            self.intact
            and self.valid
            and self.trusted
            and self.docmdp_ok is not False
            and self.modification_level is not ModificationLevel.OTHER
        )


@dataclass(frozen=True)
class VerificationReport:
    signatures: tuple[SignatureReport, ...]

    @property
    def signed(self) -> bool:
        return any(s.kind is SignatureKind.SIGNATURE for s in self.signatures)

    @property
    def all_intact_and_valid(self) -> bool:
        """True when there is at least one signature and every one is intact and valid.

        Says nothing about trust: see :attr:`all_ok`.
        """
        return bool(self.signatures) and all(s.intact and s.valid for s in self.signatures)

    @property
    def all_ok(self) -> bool:
        return bool(self.signatures) and all(s.ok for s in self.signatures)


def verify_pdf(
    pdf: bytes,
    trust_roots: Sequence[bytes],
    *,
    validation_time: datetime | None = None,
    allow_fetching: bool = False,
) -> VerificationReport:
    """Verify every signature in ``pdf`` against ``trust_roots`` (DER or PEM certificates).

    ``allow_fetching`` lets the validator fetch OCSP responses, CRLs and
    missing certificates over the network; off by default so that
    verification is offline and deterministic. ``validation_time`` defaults
    to now.

    Raises :class:`InvalidPdfError` for input that is not a readable PDF and
    :class:`TrustRootError` for an unreadable trust root.
    """
    refuse_running_loop("verify_pdf")
    roots = load_trust_roots(trust_roots)
    if validation_time is not None and validation_time.tzinfo is None:
        raise ValueError("validation_time must be timezone-aware")
    reader = _pdf.open_reader(pdf)
    context = ValidationContext(
        trust_roots=roots, allow_fetching=allow_fetching, moment=validation_time
    )
    reports = asyncio.run(_verify_all(reader, context))
    return VerificationReport(signatures=tuple(reports))


async def _verify_all(reader: PdfFileReader, context: ValidationContext) -> list[SignatureReport]:
    # Signatures are opened one by one (rather than through pyHanko's
    # reader.embedded_signatures, which fails as a whole) so that one
    # unreadable signature is reported without hiding the others.
    embedded: list[EmbeddedPdfSignature] = []
    unreadable: list[SignatureReport] = []
    try:
        filled = list(enumerate_sig_fields(reader, filled_status=True))
    except (PdfError, KeyError, ValueError, TypeError, AttributeError) as exc:
        raise InvalidPdfError(f"cannot read the signature fields of this PDF: {exc}") from exc
    for name, _value, field_ref in filled:
        try:
            embedded.append(EmbeddedPdfSignature(reader, field_ref, name))
        except Exception as exc:
            unreadable.append(_failed_report(str(name), None, None, exc))
    embedded.sort(key=lambda e: e.signed_revision)

    dss_present = "/DSS" in reader.root
    timestamp_revisions = [
        e.signed_revision for e in embedded if e.sig_object_type == "/DocTimeStamp"
    ]
    reports = []
    for sig in embedded:
        try:
            level = _pades_level(sig, dss_present, timestamp_revisions)
            report = await _verify_one(sig, context, level)
        except Exception as exc:
            # A malformed signature must not hide the others: report it.
            report = _failed_report(_field_name(sig), sig, None, exc)
        reports.append(report)
    return reports + unreadable


async def _verify_one(
    sig: EmbeddedPdfSignature, context: ValidationContext, level: PadesLevel | None
) -> SignatureReport:
    status: PdfSignatureStatus | DocumentTimestampStatus
    signing_time: datetime | None
    if sig.sig_object_type == "/DocTimeStamp":
        status = await async_validate_pdf_timestamp(sig, validation_context=context)
        kind, level = SignatureKind.DOCUMENT_TIMESTAMP, None
        signing_time, source = status.timestamp, SigningTimeSource.TIMESTAMP
        timestamped = True
    else:
        status = await async_validate_pdf_signature(
            sig, signer_validation_context=context, ts_validation_context=context
        )
        kind = SignatureKind.SIGNATURE
        timestamp = status.timestamp_validity
        timestamped = timestamp is not None
        if timestamp is not None:
            signing_time, source = timestamp.timestamp, SigningTimeSource.TIMESTAMP
        else:
            signing_time, source = sig.self_reported_timestamp, SigningTimeSource.SIGNER_CLAIM
    cert = status.signing_cert
    return SignatureReport(
        field_name=_field_name(sig),
        kind=kind,
        signer_common_name=_common_name(cert),
        signer_subject=cert.subject.human_friendly,
        claimed_signer_name=_claimed_name(sig),
        signing_time=signing_time,
        signing_time_source=source if signing_time is not None else None,
        timestamped=timestamped,
        intact=status.intact,
        valid=status.valid,
        trusted=status.trusted,
        modification_level=_modification_level(status.modification_level),
        docmdp_ok=status.docmdp_ok,
        coverage=_COVERAGE.get(status.coverage) if status.coverage is not None else None,
        pades_level=level,
        problem=_problem(status),
    )


def _failed_report(
    field_name: str,
    sig: EmbeddedPdfSignature | None,
    level: PadesLevel | None,
    exc: Exception,
) -> SignatureReport:
    cert: asn1_x509.Certificate | None = None
    is_timestamp = False
    if sig is not None:
        is_timestamp = sig.sig_object_type == "/DocTimeStamp"
        with contextlib.suppress(Exception):  # the certificate may be what is broken
            cert = sig.signer_cert
    return SignatureReport(
        field_name=field_name,
        kind=SignatureKind.DOCUMENT_TIMESTAMP if is_timestamp else SignatureKind.SIGNATURE,
        signer_common_name=_common_name(cert) if cert is not None else None,
        signer_subject=cert.subject.human_friendly if cert is not None else None,
        claimed_signer_name=_claimed_name(sig) if sig is not None else None,
        signing_time=None,
        signing_time_source=None,
        timestamped=is_timestamp,
        intact=False,
        valid=False,
        trusted=False,
        modification_level=None,
        docmdp_ok=None,
        coverage=None,
        pades_level=level,
        problem=f"verification failed: {exc or type(exc).__name__}",
    )


def _pades_level(
    sig: EmbeddedPdfSignature, dss_present: bool, timestamp_revisions: list[int]
) -> PadesLevel | None:
    if sig.sig_object_type == "/DocTimeStamp":
        return None
    if sig.sig_object.get("/SubFilter") != "/ETSI.CAdES.detached":
        return PadesLevel.NOT_PADES
    unsigned = sig.signer_info["unsigned_attrs"]
    has_timestamp = unsigned.native is not None and any(
        attr["type"].native == "signature_time_stamp_token" for attr in unsigned
    )
    if not has_timestamp:
        return PadesLevel.B_B
    if not dss_present:
        return PadesLevel.B_T
    if any(revision > sig.signed_revision for revision in timestamp_revisions):
        return PadesLevel.B_LTA
    return PadesLevel.B_LT


def _problem(status: PdfSignatureStatus | DocumentTimestampStatus) -> str | None:
    if not status.intact:
        return "the signed content was modified after signing"
    if not status.valid:
        return "the cryptographic signature does not verify"
    if not status.trusted:
        indication = status.trust_problem_indic
        detail = f" ({getattr(indication, 'name', indication)})" if indication else ""
        return f"the certificate does not chain up to a trusted root{detail}"
    if status.docmdp_ok is False:
        return "later revisions made changes the signature does not allow"
    if status.modification_level is PyHankoModificationLevel.OTHER:
        return "later revisions changed the document beyond signatures and form filling"
    return None


_COVERAGE = {
    SignatureCoverageLevel.ENTIRE_FILE: Coverage.ENTIRE_FILE,
    SignatureCoverageLevel.ENTIRE_REVISION: Coverage.ENTIRE_REVISION,
    SignatureCoverageLevel.CONTIGUOUS_BLOCK_FROM_START: Coverage.CONTIGUOUS_BLOCK,
    SignatureCoverageLevel.UNCLEAR: Coverage.UNCLEAR,
}

_MODIFICATION_LEVELS = {
    PyHankoModificationLevel.NONE: ModificationLevel.NONE,
    PyHankoModificationLevel.LTA_UPDATES: ModificationLevel.LTA_UPDATES,
    PyHankoModificationLevel.FORM_FILLING: ModificationLevel.FORM_FILLING,
    PyHankoModificationLevel.ANNOTATIONS: ModificationLevel.ANNOTATIONS,
    PyHankoModificationLevel.OTHER: ModificationLevel.OTHER,
}


def _modification_level(level: PyHankoModificationLevel | None) -> ModificationLevel | None:
    return _MODIFICATION_LEVELS.get(level) if level is not None else None


def _field_name(sig: EmbeddedPdfSignature) -> str:
    return str(sig.field_name)


def _claimed_name(sig: EmbeddedPdfSignature) -> str | None:
    name = sig.sig_object.get("/Name")
    return str(name) if isinstance(name, generic.TextStringObject) else None


def _common_name(cert: asn1_x509.Certificate) -> str | None:
    for rdn in cert.subject.chosen:
        for attribute in rdn:
            if attribute["type"].native == "common_name":
                return str(attribute["value"].native)
    return None


def load_trust_roots(trust_roots: Sequence[bytes]) -> list[asn1_x509.Certificate]:
    # An empty list is allowed (integrity only, nothing trusted); it must
    # stay a list: None would make pyHanko fall back to the system's roots.
    roots = []
    for data in trust_roots:
        if pem.detect(data):
            ders = [der for _, _, der in pem.unarmor(data, multiple=True)]
        else:
            ders = [data]
        for der in ders:
            try:
                # cryptography parses strictly; asn1crypto would accept
                # garbage lazily and fail later inside validation.
                x509.load_der_x509_certificate(der)
            except ValueError as exc:
                raise TrustRootError(f"trust root is not a DER or PEM certificate: {exc}") from exc
            roots.append(asn1_x509.Certificate.load(der))
    return roots
