"""The mails of the signature workflow, rendered from `app/templates/mails/signatures/` by the
renderer of every templated mail (`app.rendering.mail_text`).

Each template gives a `subject` block and a `body` block (inside `signatures/_layout.txt`,
which adds the signature). Only `.html` templates would be autoescaped: the text mails print
names, roles and reasons verbatim, as the person typed them; the HTML part the transport draws
from the text is escaped by its layout."""

from __future__ import annotations

from app.contracts.models import ContractVersion
from app.mail import OutgoingMail
from app.rendering import mail_text
from app.rendering.french import format_date
from app.signatures import rules
from app.signatures.codes import IssuedCode
from app.signatures.links import Invitation
from app.signatures.models import SignatureRequest, Signer
from app.signatures.seal import Completion


def render_mail(template_name: str, to: str, **context: object) -> OutgoingMail:
    """The mail `template_name` (a template of `mails/signatures/`, without `.txt`), to `to`."""
    return mail_text.render_mail(f"signatures/{template_name}.txt", to, attachments=(), **context)


def invitation_mail(
    invitation: Invitation,
    version: ContractVersion,
    base_url: str,
    *,
    vendor: str,
    reminder: bool = False,
) -> OutgoingMail:
    """The signing link, naming who asks (`vendor`): a mail that does not looks like phishing."""
    signer = invitation.signer
    assert signer.token_expires_at is not None
    return render_mail(
        "invitation",
        signer.email,
        reminder=reminder,
        vendor=vendor,
        name=signer.name,
        number=version.contract.number,
        version=version.version,
        client=version.contract.client.legal_name,
        countersigns=signer.party != rules.CLIENT_PARTY,
        capacity=rules.capacity_of(
            signer.party,
            client_title=version.signer_title,
            vendor_title=version.countersigner_title,
        ),
        link=f"{base_url}/signature/{invitation.token}",
        expires=format_date(signer.token_expires_at),
    )


def reminder_mail(invitation: Invitation, base_url: str, *, vendor: str) -> OutgoingMail:
    """The invitation again, saying that its new link replaces the one received before."""
    version = invitation.signer.request.contract_version
    return invitation_mail(invitation, version, base_url, vendor=vendor, reminder=True)


def code_mail(issued: IssuedCode, *, vendor: str) -> OutgoingMail:
    return render_mail(
        "code",
        issued.signer.email,
        vendor=vendor,
        name=issued.signer.name,
        number=issued.signer.request.contract_version.contract.number,
        code=issued.code,
    )


def locked_mail(signer: Signer, sender_email: str) -> OutgoingMail:
    """Tell the sender of the request that a signer is locked out."""
    return render_mail(
        "locked",
        sender_email,
        name=signer.name,
        email=signer.email,
        failures=rules.CODE_MAX_FAILURES,
        number=signer.request.contract_version.contract.number,
    )


def completion_mails(completion: Completion, base_url: str, *, vendor: str) -> list[OutgoingMail]:
    version = completion.request.contract_version
    completed_at = completion.request.completed_at
    assert completed_at is not None  # a completion is a sealed, hence completed, request
    return [
        render_mail(
            "completion",
            download.signer.email,
            vendor=vendor,
            name=download.signer.name,
            number=version.contract.number,
            version=version.version,
            link=f"{base_url}/signature/document/{download.token}",
            expires=format_date(rules.download_link_expiry(completed_at)),
            client_space=(
                f"{base_url}/espace-client/"
                if download.signer.party == rules.CLIENT_PARTY
                else None
            ),
            sha256=completion.document.sha256,
        )
        for download in completion.downloads
    ]


def closed_mails(
    request: SignatureRequest, recipients: list[str], *, label: str, reason: str
) -> list[OutgoingMail]:
    """The notice that an unfinished request ended (declined, cancelled, expired)."""
    version = request.contract_version
    return [
        render_mail(
            "closed",
            to,
            number=version.contract.number,
            version=version.version,
            label=label,
            reason=reason,
        )
        for to in recipients
    ]
