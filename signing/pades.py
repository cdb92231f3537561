"""PAdES signatures: filling a pre-created signature field.

Produces PAdES baseline signatures (subfilter ETSI.CAdES.detached, SHA-256):
B-B without a timestamp authority, B-T with one.

Uses pyHanko's synchronous API, which runs its own event loop through
``asyncio.run``: call :func:`sign_pdf` from plain (threaded) code, or from
async code via ``asyncio.to_thread``, never directly inside a running loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO
from typing import Any, BinaryIO

from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.sign.fields import MDPPerm, SigSeedSubFilter
from pyhanko.sign.general import SigningError as PyHankoSigningError
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner, Signer
from pyhanko.sign.signers.pdf_signer import (
    DSSContentSettings,
    PdfSigningSession,
    SigDSSPlacementPreference,
    TimestampDSSContentSettings,
)
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.validation.dss import async_add_validation_info

from signing import _pdf
from signing._sync import refuse_running_loop
from signing.appearance import AppearanceStyle, appearance_text, stamp_style
from signing.errors import (
    InvalidSpecError,
    SignatureFieldError,
    SigningError,
    TimestampError,
    ValidationDataError,
)
from signing.fields import SignatureFieldSpec, append_fields
from signing.keys import SigningKey
from signing.network import TrustServices
from signing.timestamps import TimestampAuthority

__all__ = ["SignSpec", "certify_pdf", "seal_pdf", "sign_pdf"]

DIGEST_ALGORITHM = "sha256"

# DER bytes reserved on top of the embedded certificates: signer info, signed
# attributes (signing-certificate-v2, digests, algorithm protection) and the
# signature value take well under 1 KB with ECDSA or RSA-4096; the rest is room
# for future signed attributes (signature policy, commitment type).
_CMS_OVERHEAD = 4096


@dataclass(frozen=True)
class SignSpec:
    """One signature to apply.

    ``signer_name`` is the person (or body) on whose behalf the signature is
    made; it is drawn in the field and recorded as the signature's /Name, and
    may use any script the appearance fonts cover. ``signed_at`` (timezone
    aware, in the zone to show: Europe/Paris for people) is drawn in the field
    and is the moment the key's certificate must be valid at. It is the
    claimed time only: the proven time comes from the timestamp authority.

    With ``existing_fields_only`` (the default) the field must already exist:
    fields are created up front by :func:`signing.add_signature_fields`.
    Otherwise a missing field is created, invisible.
    """

    field_name: str
    signer_name: str
    signed_at: datetime
    reason: str | None = None
    location: str | None = None
    timestamp_authority: TimestampAuthority | None = None
    existing_fields_only: bool = True
    appearance: AppearanceStyle = field(default_factory=AppearanceStyle)

    def __post_init__(self) -> None:
        if self.signed_at.tzinfo is None:
            raise InvalidSpecError("signed_at must be timezone-aware")
        if not self.field_name:
            raise InvalidSpecError("field_name is required")
        if not self.signer_name.strip():
            raise InvalidSpecError("signer_name is required")


def sign_pdf(
    pdf: bytes, key: SigningKey, spec: SignSpec, *, services: TrustServices | None = None
) -> bytes:
    """Sign ``pdf`` in field ``spec.field_name``; return the signed PDF.

    The signature is an incremental update: earlier revisions, and the
    signatures over them, are left byte for byte as they were.

    With ``services``, the timestamp request goes through the process's pooled
    HTTP client (and ``services``' timestamp authority is used when the spec
    names none).

    Raises :class:`CertificateExpiredError` (or not-yet-valid) rather than
    sign with a certificate invalid at ``spec.signed_at``, and
    :class:`TimestampError` if the timestamp authority fails: there is no
    fallback to an untimestamped signature.
    """
    refuse_running_loop("sign_pdf")
    key.check_validity(spec.signed_at)
    writer = _pdf.open_for_update(pdf)
    _check_target_field(_pdf.signature_fields(writer.prev), spec)
    return _sign_into(
        writer, spec, key, _metadata(spec), services, existing_fields_only=spec.existing_fields_only
    )


def certify_pdf(
    pdf: bytes,
    key: SigningKey,
    fields: Sequence[SignatureFieldSpec],
    spec: SignSpec,
    *,
    services: TrustServices | None = None,
) -> bytes:
    """First revision of a contract: create every signature field, then certify.

    ``fields`` are the fields the signers and the seal will fill later (one
    visible field per signer, an invisible one for the seal). ``spec`` is the
    platform's certification signature; its field (``spec.field_name``) is
    created invisible unless it is among ``fields``. The certification allows
    form filling only (DocMDP P=2): later signatures in the pre-created
    fields, validation data and document timestamps; anything else, such as
    drawing on a page, shows as a modification in every validator.
    """
    refuse_running_loop("certify_pdf")
    key.check_validity(spec.signed_at)
    writer = _pdf.open_for_update(pdf)
    if _pdf.signature_fields(writer.prev):
        raise SignatureFieldError(
            "certification must be the document's first signature: it already has signature fields"
        )
    append_fields(writer, fields)
    names = {f.name for f in fields}
    meta = _metadata(spec, certify=True, docmdp_permissions=MDPPerm.FILL_FORMS)
    return _sign_into(
        writer, spec, key, meta, services, existing_fields_only=spec.field_name in names
    )


def seal_pdf(pdf: bytes, key: SigningKey, spec: SignSpec, services: TrustServices) -> bytes:
    """The platform's final seal: PAdES B-LTA.

    First adds the validation data (certificates, OCSP responses, CRLs) of
    every earlier signature and of their timestamps to the document security
    store, then signs field ``spec.field_name`` (pre-created, normally the
    invisible seal field) with a signature timestamp, embeds the seal's own
    validation data and closes with a document timestamp.

    Needs a timestamp authority (``services.timestamp_authority`` unless the
    spec names one). Raises :class:`TimestampError` if it fails and
    :class:`ValidationDataError` if revocation data cannot be collected:
    nothing is half-written, the caller retries later.
    """
    refuse_running_loop("seal_pdf")
    try:
        return _seal_pdf(pdf, key, spec, services)
    except ValidationDataError:
        # pyHanko's fetchers remember a failed fetch: without this, a retry
        # once the OCSP responder or CRL server is back would fail again.
        services.discard_fetched()
        raise


def platform_seal(
    pdf: bytes, key: SigningKey, spec: SignSpec, services: TrustServices | None
) -> bytes:
    """A platform seal at the level the configuration allows: with ``services`` (a timestamp
    authority), PAdES B-LTA (:func:`seal_pdf`: TimestampError / ValidationDataError when the
    TSA or revocation data is unavailable, and nothing is written); without, B-B."""
    if services is not None:
        return seal_pdf(pdf, key, spec, services)
    return sign_pdf(pdf, key, spec)


def _seal_pdf(pdf: bytes, key: SigningKey, spec: SignSpec, services: TrustServices) -> bytes:
    key.check_validity(spec.signed_at)
    tsa = _signature_tsa(spec, services)
    if tsa is None:
        raise InvalidSpecError("sealing at B-LTA needs a timestamp authority")
    _check_target_field(_pdf.signature_fields(_pdf.open_reader(pdf)), spec)
    with_validation_data = services.pool.run(_add_validation_data(pdf, services))
    writer = _pdf.open_for_update(with_validation_data)
    signer = key.pyhanko_signer()
    if signer.signing_cert is None:
        raise SigningError("the seal key has no certificate")
    meta = _metadata(
        spec,
        embed_validation_info=True,
        use_pades_lta=True,
        validation_context=services.validation_context(signer.signing_cert),
        # The seal's validation data goes in with the seal, and the document
        # timestamp's before it: the timestamp is then the last revision and
        # covers the whole file (VRI entries, deprecated in PAdES, would force
        # a DSS update after it).
        dss_settings=DSSContentSettings(
            include_vri=False,
            placement=SigDSSPlacementPreference.TOGETHER_WITH_SIGNATURE,
            next_ts_settings=TimestampDSSContentSettings(include_vri=False, update_before_ts=True),
        ),
    )
    return _sign_into(
        writer,
        spec,
        key,
        meta,
        services,
        existing_fields_only=spec.existing_fields_only,
        signer=signer,
    )


async def _add_validation_data(pdf: bytes, services: TrustServices) -> bytes:
    """One DSS update per earlier signature, each validated with its signer's context."""
    reader = _pdf.open_reader(pdf)
    signatures = list(reader.embedded_regular_signatures)
    for index in range(len(signatures)):
        # Re-read after each update: signatures are bound to their reader.
        embedded = reader.embedded_regular_signatures[index]
        certificate = embedded.signer_cert
        context = services.validation_context(certificate)
        try:
            out = await async_add_validation_info(
                embedded, context, add_vri_entry=False, output=BytesIO()
            )
        except TimestampError:
            raise
        except Exception as exc:
            raise ValidationDataError(
                f"could not collect validation data for signature {embedded.field_name!r} "
                f"({_cn(certificate)}): {exc}"
            ) from exc
        pdf = out.getvalue()
        reader = _pdf.open_reader(pdf)
    return pdf


def _cn(certificate: asn1_x509.Certificate) -> str:
    return str(certificate.subject.human_friendly)


def _metadata(spec: SignSpec, **extra: Any) -> PdfSignatureMetadata:
    return PdfSignatureMetadata(
        field_name=spec.field_name,
        md_algorithm=DIGEST_ALGORITHM,
        subfilter=SigSeedSubFilter.PADES,
        name=spec.signer_name,
        reason=spec.reason,
        location=spec.location,
        **extra,
    )


def _signature_tsa(spec: SignSpec, services: TrustServices | None) -> TimestampAuthority | None:
    """Who timestamps the signature: the spec's authority, else the services' (or nobody)."""
    if spec.timestamp_authority is None and services is not None:
        return services.timestamp_authority
    return spec.timestamp_authority


def _sign_into(
    writer: BasePdfFileWriter,
    spec: SignSpec,
    key: SigningKey,
    meta: PdfSignatureMetadata,
    services: TrustServices | None,
    *,
    existing_fields_only: bool,
    signer: Signer | None = None,
) -> bytes:
    """Sign the document open in `writer` (the signature `meta` describes, timestamped if
    `spec` or `services` name an authority) and return the signed bytes."""
    tsa = _signature_tsa(spec, services)
    text = appearance_text(
        spec.appearance, spec.signer_name, spec.signed_at, spec.reason, spec.location
    )
    style, text_params = stamp_style(text, spec.appearance)
    if signer is None:
        signer = key.pyhanko_signer()
    pdf_signer = _ClaimedTimeSigner(
        meta,
        signer,
        timestamper=_timestamper(tsa, services),
        stamp_style=style,
        claimed_at=spec.signed_at,
    )
    coroutine = pdf_signer.async_sign_pdf(
        writer,
        existing_fields_only=existing_fields_only,
        bytes_reserved=_bytes_reserved(signer, tsa),
        appearance_text_params=text_params,
    )
    return _run_signing(coroutine, spec, tsa, services)


class _ClaimedTimeSigner(PdfSigner):
    """A PdfSigner whose claimed signing time (the CMS signingTime and the signature's /M) is
    the spec's ``signed_at``, not pyHanko's clock when the session starts: a signature applied
    by a background job some time after the person's consent claims the consent's time. The
    proven time is still the timestamp authority's."""

    def __init__(self, *args: Any, claimed_at: datetime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._claimed_at = claimed_at

    def init_signing_session(
        self, pdf_out: BasePdfFileWriter, existing_fields_only: bool = False
    ) -> PdfSigningSession:
        session = super().init_signing_session(pdf_out, existing_fields_only)
        session.system_time = self._claimed_at
        return session


def _timestamper(
    tsa: TimestampAuthority | None, services: TrustServices | None
) -> TimeStamper | None:
    if tsa is None:
        return None
    if services is not None and services.timestamp_authority == tsa:
        return services.timestamper()
    if services is not None:
        return tsa.pyhanko_timestamper(session=services.pool.session)
    return tsa.pyhanko_timestamper()


def _run_signing(
    coroutine: Coroutine[Any, Any, BinaryIO],
    spec: SignSpec,
    tsa: TimestampAuthority | None,
    services: TrustServices | None,
) -> bytes:
    try:
        out = services.pool.run(coroutine) if services is not None else asyncio.run(coroutine)
    except (TimestampError, ValidationDataError):
        raise
    except (PyHankoSigningError, PdfError) as exc:
        if "larger than expected" in str(exc):
            hint = "; raise TimestampAuthority.token_size_allowance" if tsa else ""
            raise SigningError(
                f"the signature did not fit in the space reserved for it{hint}"
            ) from exc
        raise SigningError(f"signing field {spec.field_name!r} failed: {exc}") from exc
    except Exception as exc:
        if services is None:
            raise
        # Validation-data collection inside pyHanko (OCSP, CRL, path building).
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, TimestampError):
            raise cause from exc
        raise ValidationDataError(
            f"signing field {spec.field_name!r} failed while collecting validation data: {exc}"
        ) from exc
    signed: bytes = out.getvalue()  # type: ignore[attr-defined]
    return signed


def _check_target_field(fields: dict[str, bool], spec: SignSpec) -> None:
    if spec.field_name not in fields:
        if spec.existing_fields_only:
            raise SignatureFieldError(
                f"no signature field named {spec.field_name!r} "
                f"(fields: {', '.join(sorted(fields)) or 'none'})"
            )
        return
    if fields[spec.field_name]:
        raise SignatureFieldError(f"signature field {spec.field_name!r} is already signed")


def _bytes_reserved(signer: Signer, tsa: TimestampAuthority | None) -> int:
    # Giving pyHanko the size up front spares it a complete dry-run signature
    # (and, with a TSA, a dummy timestamp request) used only to measure the
    # result. The value counts hexadecimal characters: two per DER byte.
    certificates: list[asn1_x509.Certificate] = list(signer.cert_registry)
    if signer.signing_cert is not None:
        certificates.append(signer.signing_cert)
    der_size = sum(len(c) for c in {c.dump() for c in certificates}) + _CMS_OVERHEAD
    if tsa is not None:
        der_size += tsa.token_size_allowance
    return 2 * der_size
