"""Delivery notices owed to customers, and the store webhooks already received."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, BigId


class DeliveryNotice(Base):
    """One notice about an order's delivery: shipped, out for delivery, failed or delayed.

    Unique per (order, kind): whatever replays or passes plan it, a customer hears each
    kind of news about an order once.
    """

    __tablename__ = "delivery_notices"
    __table_args__ = (
        UniqueConstraint("order_id", "kind"),
        Index("ix_delivery_notices_status_due_at", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(24))
    # pending, sent, skipped
    status: Mapped[str] = mapped_column(String(16))
    skip_reason: Mapped[str | None] = mapped_column(String(32))
    due_at: Mapped[datetime]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    # A delay notice: the estimate that passed (a later one, set meanwhile, is the news).
    estimate_at: Mapped[datetime | None]


class WebhookDelivery(Base):
    """A store platform's webhook delivery already recorded (its delivery id): a replay
    of it is answered and changes nothing."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("source", "delivery_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    delivery_id: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(index=True)
