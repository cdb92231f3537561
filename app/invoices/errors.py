from __future__ import annotations

from app.errors import Conflict, DomainError, FieldErrors, NotFound


class InvoiceInvalid(FieldErrors):
    """Invoice input refused field by field (lines, VAT rate, total); nothing is issued."""


class ContractNotSigned(DomainError):
    """Billing a contract whose latest version is not signed."""


class PeriodAlreadyBilled(Conflict):
    """The billing plan already has an invoice for this period."""


class InvoiceImmutable(Conflict):
    """An issued invoice or credit note never changes nor disappears: issue a credit note."""


class CreditNoteInvalid(FieldErrors):
    """A credit note that does not fit its invoice (over-credit, bad lines)."""


class InvoiceNotFound(NotFound):
    """No invoice with that id."""


class PeriodInvalid(DomainError):
    """A billing period that is not AAAA-MM, or before the plan's start."""


class PaymentInvalid(FieldErrors):
    """A payment that does not fit the invoice (zero, negative, more than what is due)."""


class RateMissing(DomainError):
    """No reference rate (ECB, legal) in force at the date needed."""


class SyntecIndexMissing(DomainError):
    """The Syntec index of a month a revision needs has not been entered."""


class RevisionInvalid(FieldErrors):
    """A revision clause, an index value or a renewal that cannot be used."""


class PeriodAfterTermination(DomainError):
    """A plan's period that begins after the client's termination date: never billed."""


class PdfNotProduced(DomainError):
    """An issued invoice or credit note whose PDF is not archived yet: it is produced after
    the issuing commit, or by the next producer run when that failed. A download never
    produces it (a GET changes nothing)."""
