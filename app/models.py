"""Imports every feature's models so that `Base.metadata` is complete (Alembic, tests)."""

from app.archive.models import RestitutionLink
from app.audit.models import AuditChainHead, AuditEvent
from app.auth.models import ApiToken, User
from app.backup_keys.models import BackupKey
from app.backups.models import BackupRun
from app.clauses.models import Clause, ClauseVersion
from app.client_space.models import SpaceLink, SpaceSession
from app.clients.models import BillingContact, Client
from app.contracts.models import Contract, ContractClause, ContractVersion
from app.documents.models import Document
from app.events.models import Event
from app.idempotency.models import IdempotencyKey
from app.invoices.models import (
    BillingPlan,
    BillingPlanLine,
    CreditNote,
    CreditNoteLine,
    Invoice,
    InvoiceLine,
)
from app.job_runs.models import JobRun
from app.mail.models import OutgoingMailAttachment, OutgoingMailRecord
from app.numbering.models import NumberSequence
from app.quotes.models import Product, Quote, QuoteLine, SetupFeeInstalment
from app.signatures.models import ReplacedSigningLink, SignatureRequest, Signer
from app.terms.models import CgvAcceptance, CgvNotification, CgvPreview, CgvVersion
from app.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

__all__ = [
    "ApiToken",
    "AuditChainHead",
    "AuditEvent",
    "BackupKey",
    "BackupRun",
    "BillingContact",
    "BillingPlan",
    "BillingPlanLine",
    "CgvAcceptance",
    "CgvNotification",
    "CgvPreview",
    "CgvVersion",
    "Clause",
    "ClauseVersion",
    "Client",
    "Contract",
    "ContractClause",
    "ContractVersion",
    "CreditNote",
    "CreditNoteLine",
    "Document",
    "Event",
    "IdempotencyKey",
    "Invoice",
    "InvoiceLine",
    "JobRun",
    "NumberSequence",
    "OutgoingMailAttachment",
    "OutgoingMailRecord",
    "Product",
    "Quote",
    "QuoteLine",
    "ReplacedSigningLink",
    "RestitutionLink",
    "SetupFeeInstalment",
    "SignatureRequest",
    "Signer",
    "SpaceLink",
    "SpaceSession",
    "User",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]
