"""When a person last wrote in a chat, for channels that may only answer for a while after
(WhatsApp's 24-hour customer-service window), and the languages to write to them in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ChannelIdentity, Conversation, Customer, Message


@dataclass(frozen=True)
class ChatSeen:
    """The chat's last incoming message (None: never) and its chosen languages."""

    last_inbound_at: datetime | None
    customer_locale: str | None = None
    chat_locale: str | None = None
    client_language: str | None = None


async def chat_seen(session: AsyncSession, channel: str, chat_id: str) -> ChatSeen:
    """What ``(channel, chat_id)`` said last and in which language it is spoken to."""
    conv = (
        await session.execute(
            select(Conversation.id, Conversation.locale, Customer.locale)
            .outerjoin(Customer, Customer.id == Conversation.customer_id)
            .where(Conversation.channel == channel, Conversation.chat_id == chat_id)
        )
    ).first()
    language = await session.scalar(
        select(ChannelIdentity.language_code).where(
            ChannelIdentity.channel == channel, ChannelIdentity.chat_id == chat_id
        )
    )
    if conv is None:
        return ChatSeen(None, client_language=language)
    last = await session.scalar(
        select(func.max(Message.at)).where(
            Message.conversation_id == conv[0], Message.direction == "in"
        )
    )
    return ChatSeen(last, conv[2], conv[1], language)


__all__ = ["ChatSeen", "chat_seen"]
