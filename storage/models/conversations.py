"""Conversations, their transcript, follow-ups and survey answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, BigId


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
    # score and theme included: NPS, CSAT and the theme shares are counted from the
    # index alone (KPI queries).
    __table_args__ = (
        Index("ix_survey_responses_kind_answered_theme", "kind", "answered_at", "score", "theme"),
        # The delivery KPIs: the answers about the orders delivered in a period, read
        # from the index alone.
        Index("ix_survey_responses_order", "order_id", "kind", "score"),
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
    # What the reason is about (flows.themes); None without a reason or a tagger.
    theme: Mapped[str | None] = mapped_column(String(24))
    theme_source: Mapped[str | None] = mapped_column(String(8))  # "model" or "operator"
