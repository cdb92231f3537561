from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ColumnElement, ForeignKey, String, Text, UniqueConstraint, or_, true
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime
from app.enums import enum_column


class ClientStatus(StrEnum):
    ACTIVE = "active"
    TERMINATED = "terminated"


class Client(Base):
    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    legal_name: Mapped[str] = mapped_column(String(200))
    # "" for a client of another EU member state that has no SIREN (country != "FR")
    siren: Mapped[str] = mapped_column(String(9), index=True)
    # Normalised (no blanks, upper case), prefix included; 14: the longest EU format (NL, SE)
    vat_number: Mapped[str | None] = mapped_column(String(14))
    address: Mapped[str] = mapped_column(String(300))
    postal_code: Mapped[str] = mapped_column(String(10))
    city: Mapped[str] = mapped_column(String(100))
    # ISO 3166-1 alpha-2: FR or another EU member state (clients.rules.EU_COUNTRIES)
    country: Mapped[str] = mapped_column(String(2), default="FR")
    signer_name: Mapped[str] = mapped_column(String(200))
    signer_email: Mapped[str] = mapped_column(String(254))
    # The signer's capacity (« Président », « Directrice générale, par délégation »): what
    # shows the person may bind the company; printed on contracts as typed. None: not given.
    signer_title: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[ClientStatus] = mapped_column(
        enum_column(ClientStatus), default=ClientStatus.ACTIVE
    )
    terminated_on: Mapped[date | None]
    termination_reason: Mapped[str | None] = mapped_column(Text)
    # Set by the retention purge once the contact's personal data has been replaced.
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Some vendors post invoices to the client's e-invoicing platform instead of mailing them.
    send_invoices_by_email: Mapped[bool] = mapped_column(default=True, server_default=true())

    @property
    def full_address(self) -> str:
        return f"{self.address}, {self.postal_code} {self.city}"


class BillingContact(Base):
    """An address that receives the client's invoices and credit notes, kept apart from the
    signer's (the person who signs is rarely the one who pays). Deactivated, never deleted:
    the journal and the mails already sent still name it."""

    __tablename__ = "billing_contacts"
    __table_args__ = (UniqueConstraint("client_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


def active_on(day: date) -> ColumnElement[bool]:
    """Clients still clients on ``day``: not terminated, or terminated with effect after it
    (a termination is recorded ahead of its date; until then the client is bound, billed and
    told like any other)."""
    return or_(Client.status == ClientStatus.ACTIVE, Client.terminated_on > day)
