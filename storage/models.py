"""SQLAlchemy models: the whole persistent state of postsale.

Every timestamp is UTC (``UTCDateTime``); money is integer cents.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BigInteger primary keys autoincrement on PostgreSQL; SQLite only does so for INTEGER.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class Customer(Base):
    """A person who buys from the store; ``external_id`` is the store's customer id."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(128), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32), index=True)  # E.164
    email: Mapped[str | None] = mapped_column(String(254))
    locale: Mapped[str | None] = mapped_column(String(16))
    timezone: Mapped[str | None] = mapped_column(String(64))
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


class Order(Base):
    """An order of the store; ``external_id`` is the store's order id."""

    __tablename__ = "orders"
    # Covers the KPI queries per customer (orders, first order, revenue) without
    # reading the table; its first column serves the plain customer_id lookups too.
    __table_args__ = (
        Index("ix_orders_customer_purchased", "customer_id", "purchased_at", "total_cents"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(128), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    total_cents: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    purchased_at: Mapped[datetime] = mapped_column(index=True)
    delivered_at: Mapped[datetime | None]
    # The store's own version of the order (its ``updated_at``): an import carrying an
    # older or equal one is stale and skipped, so a replayed event never rolls back.
    source_updated_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    # Indexed: the follow-up planner polls for recently changed orders.
    updated_at: Mapped[datetime] = mapped_column(index=True)


class FollowUp(Base):
    """The post-delivery contact for one order: due, sent, reminded, answered or expired."""

    __tablename__ = "followups"
    __table_args__ = (Index("ix_followups_status_due_at", "status", "due_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    # pending, sent, reminded, answered, expired, skipped
    status: Mapped[str] = mapped_column(String(16))
    skip_reason: Mapped[str | None] = mapped_column(String(32))
    due_at: Mapped[datetime]
    sent_at: Mapped[datetime | None] = mapped_column(index=True)
    reminded_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    expired_at: Mapped[datetime | None]


class Conversation(Base):
    """The state of one chat: which flow it is in and that flow's data."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "chat_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    chat_id: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    flow: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]]
    locale: Mapped[str | None] = mapped_column(String(16))
    updated_at: Mapped[datetime]


class Message(Base):
    """One line of a transcript, incoming or outgoing."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_customer_at", "customer_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(32))
    chat_id: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(3))  # "in" or "out"
    flow: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any] | None]
    at: Mapped[datetime] = mapped_column(index=True)


class SurveyResponse(Base):
    """An NPS (0-10) or CSAT (1-5) answer, from the chat or imported."""

    __tablename__ = "survey_responses"
    # score included: NPS and CSAT are counted from the index alone (KPI queries).
    __table_args__ = (
        Index("ix_survey_responses_kind_answered_at", "kind", "answered_at", "score"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # The idempotency key: the file's response_id, or a natural key built from the answer.
    dedup_key: Mapped[str] = mapped_column(String(255), unique=True)
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    followup_id: Mapped[int | None] = mapped_column(ForeignKey("followups.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(8))  # "nps" or "csat"
    score: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))  # "chat" or "import"
    answered_at: Mapped[datetime]


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


class OutboxMessage(Base):
    """A message waiting to be sent, sent, or failed for good (with its reason)."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_id", "status", "id"),
        Index("ix_outbox_chat", "channel", "chat_id", "id"),
        Index("ix_outbox_followup_id", "followup_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    chat_id: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    # what the message is for: "reply", "invitation", "reminder", "operator", "alert", ...
    purpose: Mapped[str] = mapped_column(String(24))
    # The rendered message: {"text": ..., "buttons": [[{"text":..,"data":..}]], ...}
    body: Mapped[dict[str, Any]]
    # queued, sent, failed, or unknown: delivered or not, the answer was lost twice
    status: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime]
    not_before: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    remote_id: Mapped[str | None] = mapped_column(String(64))
    # Transient errors are retried until then (null: ``OUTBOX_RETRY_FOR`` after created_at).
    deadline: Mapped[datetime | None]
    # Sends whose outcome is unknown (a timeout or a drop after the request went out).
    unknowns: Mapped[int] = mapped_column(Integer, server_default="0")
    # The follow-up an invitation is for: the KPI counts it sent once this row is sent.
    followup_id: Mapped[int | None] = mapped_column(ForeignKey("followups.id", ondelete="CASCADE"))


class HandledUpdate(Base):
    """The (channel, update id) of every handled update, for idempotent ingest."""

    __tablename__ = "handled_updates"

    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    update_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    handled_at: Mapped[datetime]


class DeadUpdate(Base):
    """An update given up on: it failed by itself (or could not be read), kept to look at."""

    __tablename__ = "dead_updates"
    __table_args__ = (Index("ix_dead_updates_failed_at", "failed_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    update_id: Mapped[str | None] = mapped_column(String(64))  # None: no id could be read
    raw: Mapped[dict[str, Any]]  # the update's JSON, as it came
    error: Mapped[str] = mapped_column(Text)
    failed_at: Mapped[datetime]


class Operator(Base):
    """Somebody allowed to run operator (or, as admin, also admin) commands."""

    __tablename__ = "operators"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))  # "operator" or "admin"
    name: Mapped[str | None] = mapped_column(String(200))
    added_at: Mapped[datetime]


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


class KeyValue(Base):
    """Small facts the bot keeps between runs (the bot's username from getMe, ...)."""

    __tablename__ = "kv"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ReceivedUpdate(Base):
    """An update some process has received and not yet handled (per-chat id order).

    Written in its own short transaction on arrival, deleted in the transaction that
    handles it: a newer update of the same chat that finds one here waits for it.
    """

    __tablename__ = "received_updates"
    __table_args__ = (Index("ix_received_updates_chat", "channel", "chat_id", "update_id"),)

    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime]
