"""An update's first statement: record it as handled and lock its chat, in one round trip.

On PostgreSQL the insert into ``handled_updates`` rides in the chat query (a
data-modifying CTE), so an update starts with one round trip instead of two. Which
of the insert and the row lock the server runs first is its plan's choice, but the
same in every transaction, so two deliveries of one update cannot deadlock: the second
waits for the first (on the conversation row, or on the update's unique key), and its
insert then finds the first's committed row and counts as a duplicate. SQLite has no
data-modifying CTE; there the two statements run one after the other.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, literal, select, true
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from storage import conversations as convs
from storage.models import HandledUpdate
from storage.sqlite.prepared import Prepared, fetch


def _marked_chat_query() -> Any:
    columns = HandledUpdate.__table__.c
    marked = (
        postgresql.insert(HandledUpdate)
        .values(
            channel=bindparam("m_channel", type_=columns.channel.type),
            update_id=bindparam("m_update_id", type_=columns.update_id.type),
            handled_at=bindparam("m_at", type_=columns.handled_at.type),
        )
        .on_conflict_do_nothing()
        .returning(HandledUpdate.update_id)
        .cte("marked")
    )
    chat = convs.chat_query().cte("chat")
    fresh = select(func.count()).select_from(marked).scalar_subquery()
    # One row even for a chat without a conversation yet: what ``fresh`` says is needed.
    one = select(literal(1).label("one")).subquery("one")
    return select(fresh, *chat.c).select_from(one.outerjoin(chat, true()))


_MARKED_CHAT = Prepared(_marked_chat_query())  # PostgreSQL only


async def load_marked_chat(
    session: AsyncSession, channel: str, chat_id: str, update_id: str, now: datetime
) -> convs.Chat | None:
    """``mark_handled``, then ``load_chat`` if it was new; None for a duplicate update."""
    if session.get_bind().dialect.name != "postgresql" or not update_id:
        if not await convs.mark_handled(session, channel, update_id, now):
            return None
        return await convs.load_chat(session, channel, chat_id, now)
    params = {
        "m_channel": channel,
        "m_update_id": update_id,
        "m_at": now,
        "channel": channel,
        "chat_id": chat_id,
    }
    (fresh, *row) = (await fetch(session, _MARKED_CHAT, params))[0]
    if not fresh:
        return None
    if row[0] is None:  # a new chat: its conversation is created idle
        return await convs.load_chat(session, channel, chat_id, now)
    return convs.chat_of(row)
