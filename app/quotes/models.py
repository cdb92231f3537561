from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clients.models import Client
from app.db import Amount, Base, UTCDateTime
from app.enums import LabelledEnum, enum_column
from app.pricing.columns import PricedLineColumns
from app.pricing.discounts import DiscountKind
from app.quotes.commercial_terms import BillingPeriod, PaymentMethod


class QuoteStatus(StrEnum):
    DRAFT = "draft"
    CONTRACTED = "contracted"


class ProductKind(LabelledEnum):
    PLAN = "plan"
    MODULE = "module"
    SETUP_FEE = "setup_fee"
    TRAINING = "training"


class Product(Base):
    """An item of the catalogue managed by admins; quote lines copy its values when picked
    (a later price change never alters an existing quote)."""

    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[ProductKind] = mapped_column(enum_column(ProductKind))
    name: Mapped[str] = mapped_column(String(500))
    unit: Mapped[str] = mapped_column(String(30))
    unit_price: Mapped[Decimal] = mapped_column(Amount())
    vat_rate: Mapped[Decimal] = mapped_column(Amount(6, 2))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Quote(Base):
    __tablename__ = "quotes"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    status: Mapped[QuoteStatus] = mapped_column(enum_column(QuoteStatus), default=QuoteStatus.DRAFT)
    issued_on: Mapped[date]
    valid_until: Mapped[date]
    particular_terms: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    global_discount_kind: Mapped[DiscountKind] = mapped_column(
        enum_column(DiscountKind), default=DiscountKind.NONE, server_default="none"
    )
    global_discount_value: Mapped[Decimal] = mapped_column(
        Amount(), default=Decimal("0"), server_default="0"
    )
    # Commercial terms (see app.quotes.commercial_terms.CommercialTerms; invoicing reads them).
    commitment_months: Mapped[int] = mapped_column(default=12, server_default="12")
    billing_period: Mapped[BillingPeriod] = mapped_column(
        enum_column(BillingPeriod), default=BillingPeriod.ANNUAL, server_default="annual"
    )
    payment_method: Mapped[PaymentMethod] = mapped_column(
        enum_column(PaymentMethod), default=PaymentMethod.TRANSFER, server_default="transfer"
    )
    payment_terms_days: Mapped[int] = mapped_column(default=30, server_default="30")
    tacit_renewal: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    notice_months: Mapped[int] = mapped_column(default=3, server_default="3")

    client: Mapped[Client] = relationship(lazy="joined")
    lines: Mapped[list[QuoteLine]] = relationship(
        back_populates="quote", order_by="QuoteLine.position", cascade="all, delete-orphan"
    )
    setup_schedule: Mapped[list[SetupFeeInstalment]] = relationship(
        order_by="SetupFeeInstalment.position", cascade="all, delete-orphan"
    )


class SetupFeeInstalment(Base):
    """One share of the setup fees of a quote and its milestone (they add up to 100 %)."""

    __tablename__ = "setup_fee_instalments"
    __table_args__ = (UniqueConstraint("quote_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("quotes.id"), index=True)
    position: Mapped[int]
    percent: Mapped[Decimal] = mapped_column(Amount(6, 2))
    milestone: Mapped[str] = mapped_column(String(120))


class QuoteLine(PricedLineColumns, Base):
    __tablename__ = "quote_lines"
    __table_args__ = (UniqueConstraint("quote_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("quotes.id"), index=True)
    position: Mapped[int]
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    unit: Mapped[str] = mapped_column(String(30), default="", server_default="")
    discount_kind: Mapped[DiscountKind] = mapped_column(
        enum_column(DiscountKind), default=DiscountKind.NONE, server_default="none"
    )
    discount_value: Mapped[Decimal] = mapped_column(
        Amount(), default=Decimal("0"), server_default="0"
    )

    quote: Mapped[Quote] = relationship(back_populates="lines")
