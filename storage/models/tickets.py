"""Complaint tickets, every status change, and the operators who handle them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, BigId


class Ticket(Base):
    """A complaint or a detractor follow-up, with the timestamps its KPIs need.

    The ``*_s`` columns are written when the event happens, so that KPI queries
    aggregate plain integers instead of date arithmetic that differs per backend.
    """

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(16))  # "complaint" or "detractor"
    category: Mapped[str] = mapped_column(String(32))
    description: Mapped[str | None] = mapped_column(Text)
    # open, waiting_customer, resolved, closed
    status: Mapped[str] = mapped_column(String(20), index=True)
    assignee: Mapped[str | None] = mapped_column(String(64))
    opened_at: Mapped[datetime] = mapped_column(index=True)
    first_response_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    first_response_s: Mapped[int | None] = mapped_column(Integer)
    resolution_s: Mapped[int | None] = mapped_column(Integer)
    waiting_s: Mapped[int] = mapped_column(Integer, default=0)
    waiting_since: Mapped[datetime | None]
    reopened_count: Mapped[int] = mapped_column(Integer, default=0)
    rating: Mapped[int | None] = mapped_column(Integer)
    sla_warned_at: Mapped[datetime | None]
    # What the description is about (flows.themes), and who said so.
    theme: Mapped[str | None] = mapped_column(String(24))
    theme_source: Mapped[str | None] = mapped_column(String(8))  # "model" or "operator"


class TicketEvent(Base):
    """A status change or message on a ticket, with who did it and when."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    # opened, first_response, reply, waiting_customer, customer_message, resolved,
    # closed, reopened, assigned
    kind: Mapped[str] = mapped_column(String(24))
    actor: Mapped[str] = mapped_column(String(64))  # "customer", "system" or "op:<user id>"
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime]


class Operator(Base):
    """Somebody allowed to run operator (or, as admin, also admin) commands."""

    __tablename__ = "operators"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))  # "operator" or "admin"
    name: Mapped[str | None] = mapped_column(String(200))
    added_at: Mapped[datetime]
