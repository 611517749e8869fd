"""Customers, their orders and the chats they linked."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, BigId


class Customer(Base):
    """A person who buys from the store; ``external_id`` is the store's customer id."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(128), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32), index=True)  # E.164
    email: Mapped[str | None] = mapped_column(String(254))
    locale: Mapped[str | None] = mapped_column(String(16))
    # Indexed: the delivery KPIs on SQLite find each zone's customers by it.
    timezone: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime]
    opted_out_at: Mapped[datetime | None]
    unreachable_at: Mapped[datetime | None]
    last_surveyed_at: Mapped[datetime | None]
    anonymised_at: Mapped[datetime | None]


class LinkToken(Base):
    """A deep-link token (``/start <token>``): unguessable, single-customer, single-use."""

    __tablename__ = "link_tokens"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class ChannelIdentity(Base):
    """Where a customer can be reached: a chat on a messaging channel."""

    __tablename__ = "channel_identities"
    __table_args__ = (UniqueConstraint("channel", "chat_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(32))
    chat_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str | None] = mapped_column(String(64))
    language_code: Mapped[str | None] = mapped_column(String(16))
    linked_at: Mapped[datetime]
    # The channel said this chat cannot be reached (blocked, undeliverable): the
    # customer's other chats still can be.
    unreachable_at: Mapped[datetime | None]


class Order(Base):
    """An order of the store; ``external_id`` is the store's order id."""

    __tablename__ = "orders"
    # Covers the KPI queries per customer (orders, first order, revenue) without
    # reading the table; its first column serves the plain customer_id lookups too.
    __table_args__ = (
        Index("ix_orders_customer_purchased", "customer_id", "purchased_at", "total_cents"),
        # The delivery KPIs: orders delivered in a period, estimate and customer included.
        Index("ix_orders_delivered", "delivered_at", "estimated_delivery_at", "customer_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(128), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    total_cents: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    purchased_at: Mapped[datetime] = mapped_column(index=True)
    delivered_at: Mapped[datetime | None]
    # When the store expects delivery; indexed: the delay watch reads a range of it.
    estimated_delivery_at: Mapped[datetime | None] = mapped_column(index=True)
    # shipped, out_for_delivery, delivered, delivery_failed (DELIVERY_STATUSES), and since
    # when; indexed: the notice watch reads the statuses changed lately.
    delivery_status: Mapped[str | None] = mapped_column(String(24))
    delivery_status_at: Mapped[datetime | None] = mapped_column(index=True)
    tracking_url: Mapped[str | None] = mapped_column(String(2048))
    # The store's own version of the order (its ``updated_at``): an import carrying an
    # older or equal one is stale and skipped, so a replayed event never rolls back.
    source_updated_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    # Indexed: the follow-up planner polls for recently changed orders.
    updated_at: Mapped[datetime] = mapped_column(index=True)


class MarketingSpend(Base):
    """Marketing spend of one month and channel, for CAC."""

    __tablename__ = "marketing_spend"
    __table_args__ = (UniqueConstraint("month", "channel"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    month_start: Mapped[datetime] = mapped_column(index=True)
    channel: Mapped[str] = mapped_column(String(64))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
