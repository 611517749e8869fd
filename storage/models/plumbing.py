"""The outbox, the updates received and handled, and small settings kept in the database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, BigId


class OutboxMessage(Base):
    """A message waiting to be sent, sent, or failed for good (with its reason)."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_id", "status", "id"),
        Index("ix_outbox_chat", "channel", "chat_id", "id"),
        Index("ix_outbox_followup_id", "followup_id"),
        Index("ix_outbox_remote", "channel", "remote_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    chat_id: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    # what the message is for: "reply", "invitation", "reminder", "operator", "alert", ...
    purpose: Mapped[str] = mapped_column(String(24))
    # The rendered message: storage.outbox_body.OutboxBody.to_json() (older rows: the same keys)
    body: Mapped[dict[str, Any]]
    # queued, sent, failed, or unknown: delivered or not, the answer was lost twice
    status: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime]
    not_before: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    remote_id: Mapped[str | None] = mapped_column(String(128))  # a WhatsApp wamid is long
    # Transient errors are retried until then (null: ``OUTBOX_RETRY_FOR`` after created_at).
    deadline: Mapped[datetime | None]
    # Sends whose outcome is unknown (a timeout or a drop after the request went out).
    unknowns: Mapped[int] = mapped_column(Integer, server_default="0")
    # The follow-up an invitation is for: the KPI counts it sent once this row is sent.
    followup_id: Mapped[int | None] = mapped_column(ForeignKey("followups.id", ondelete="CASCADE"))
    # What the channel's server later said of the sent message (WhatsApp's statuses):
    # "sent", "delivered", "read" or "failed", when, and a failure's code and reason.
    receipt: Mapped[str | None] = mapped_column(String(16))
    receipt_at: Mapped[datetime | None]
    receipt_error: Mapped[str | None] = mapped_column(Text)


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


class ReceivedUpdate(Base):
    """An update some process has received and not yet handled (per-chat id order).

    Written on arrival by a statement committed on its own, deleted in the transaction that
    handles it: a newer update of the same chat that finds one here waits for it.
    """

    __tablename__ = "received_updates"
    __table_args__ = (Index("ix_received_updates_chat", "channel", "chat_id", "update_id"),)

    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime]


class KeyValue(Base):
    """Small facts the bot keeps between runs (the bot's username from getMe, ...)."""

    __tablename__ = "kv"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
