"""Linking a chat to a customer: deep-link tokens and phone matching."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    ChannelIdentity,
    Conversation,
    Customer,
    LinkToken,
    Message,
    Order,
    OutboxMessage,
)

LinkOutcome = Literal["linked", "linked_shared", "already_linked", "used", "unknown", "no_match"]


@dataclass(frozen=True)
class LinkResult:
    outcome: LinkOutcome
    customer_id: int | None = None


async def create_token(session: AsyncSession, customer_id: int, now: datetime) -> str:
    """A fresh unguessable token for the customer (an unused one is reused)."""
    existing = await session.scalar(
        select(LinkToken.token).where(
            LinkToken.customer_id == customer_id, LinkToken.used_at.is_(None)
        )
    )
    if existing:
        return existing
    token = secrets.token_urlsafe(24)  # 32 chars, within Telegram's 64-char start parameter
    session.add(LinkToken(token=token, customer_id=customer_id, created_at=now))
    await session.flush()
    return token


async def identity_for_chat(
    session: AsyncSession, channel: str, chat_id: str
) -> ChannelIdentity | None:
    return await session.scalar(
        select(ChannelIdentity).where(
            ChannelIdentity.channel == channel, ChannelIdentity.chat_id == chat_id
        )
    )


async def _attach(
    session: AsyncSession,
    customer_id: int,
    channel: str,
    chat_id: str,
    user_id: str | None,
    language_code: str | None,
    now: datetime,
) -> LinkResult:
    current = await identity_for_chat(session, channel, chat_id)
    if current is not None:
        if current.customer_id == customer_id:
            return LinkResult("already_linked", customer_id)
        # The chat moves to the customer who proved who they are.
        current.customer_id = customer_id
        current.linked_at = now
        return LinkResult("linked", customer_id)
    session.add(
        ChannelIdentity(
            customer_id=customer_id,
            channel=channel,
            chat_id=chat_id,
            user_id=user_id,
            language_code=language_code,
            linked_at=now,
        )
    )
    await session.flush()
    return LinkResult("linked", customer_id)


async def redeem_token(
    session: AsyncSession,
    token: str,
    *,
    channel: str,
    chat_id: str,
    user_id: str | None,
    language_code: str | None,
    now: datetime,
) -> LinkResult:
    """Link the chat to the token's customer; a token works once, for its customer only."""
    row = await session.get(LinkToken, token)
    if row is None:
        return LinkResult("unknown")
    if row.used_at is not None:
        current = await identity_for_chat(session, channel, chat_id)
        if current is not None and current.customer_id == row.customer_id:
            return LinkResult("already_linked", row.customer_id)
        return LinkResult("used")
    row.used_at = now
    return await _attach(session, row.customer_id, channel, chat_id, user_id, language_code, now)


async def link_by_phone(
    session: AsyncSession,
    phone_e164: str | Sequence[str],
    *,
    channel: str,
    chat_id: str,
    user_id: str | None,
    language_code: str | None,
    now: datetime,
) -> LinkResult:
    """Link the chat to the customer with this phone number (E.164; or any of these).

    Several customers may share a number (a family, or one person under two customer
    ids): the one who bought most recently is linked, and the outcome says so
    (``linked_shared``) so that the chat can tell them how to reach another account.
    """
    phones = [phone_e164] if isinstance(phone_e164, str) else list(phone_e164)
    last_order = (
        select(func.max(Order.purchased_at))
        .where(Order.customer_id == Customer.id)
        .scalar_subquery()
    )
    ids = (
        await session.scalars(
            select(Customer.id)
            .where(Customer.phone.in_(phones), Customer.anonymised_at.is_(None))
            .order_by(
                last_order.desc().nulls_last(), Customer.created_at.desc(), Customer.id.desc()
            )
            .limit(2)
        )
    ).all()
    if not ids:
        return LinkResult("no_match")
    result = await _attach(session, ids[0], channel, chat_id, user_id, language_code, now)
    if len(ids) > 1 and result.outcome == "linked":
        return LinkResult("linked_shared", result.customer_id)
    return result


async def move_chat(session: AsyncSession, channel: str, old: str, new: str) -> bool:
    """The chat ``old`` is really ``new`` (the id the channel answers from): its link, its
    conversation (unless ``new`` has one), transcript and queued messages follow."""
    identity = await identity_for_chat(session, channel, old)
    if identity is None or await identity_for_chat(session, channel, new) is not None:
        return False
    identity.chat_id = new
    taken = await session.scalar(
        select(Conversation.id).where(Conversation.channel == channel, Conversation.chat_id == new)
    )
    if taken is not None and not await _has_messages(session, taken):
        # Just opened for this very update: the reached chat's conversation replaces it.
        await session.execute(delete(Conversation).where(Conversation.id == taken))
        taken = None
    moved: list[Any] = [Message, OutboxMessage]
    if taken is None:
        moved.append(Conversation)
    for model in moved:
        where = [model.channel == channel, model.chat_id == old]
        if model is OutboxMessage:
            where.append(OutboxMessage.status == "queued")
        await session.execute(
            update(model)
            .where(*where)
            .values(chat_id=new)
            .execution_options(synchronize_session=False)
        )
    await session.flush()
    return True


async def _has_messages(session: AsyncSession, conversation_id: int) -> bool:
    found = await session.scalar(
        select(Message.id).where(Message.conversation_id == conversation_id).limit(1)
    )
    return found is not None


@dataclass(frozen=True)
class UnmatchedChat:
    """A chat on a phone-number channel whose number matched no customer."""

    channel: str
    number: str  # E.164
    first_at: datetime
    last_at: datetime
    messages: int


async def unmatched_chats(
    session: AsyncSession, *, channel: str = "whatsapp", limit: int | None = None
) -> Sequence[UnmatchedChat]:
    """Chats on ``channel`` that wrote and are linked to nobody, the latest first."""
    last = func.max(Message.at)
    query = (
        select(Conversation.chat_id, func.min(Message.at), last, func.count(Message.id))
        .join(Message, Message.conversation_id == Conversation.id)
        .where(
            Conversation.channel == channel,
            Conversation.customer_id.is_(None),
            Message.direction == "in",
        )
        .group_by(Conversation.chat_id)
        .order_by(last.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    rows = (await session.execute(query)).all()
    return [UnmatchedChat(channel, f"+{chat}", first, at, n) for chat, first, at, n in rows]
