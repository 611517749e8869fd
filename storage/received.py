"""Updates received and not yet handled: what keeps one chat in update-id order.

Several webhook processes may receive updates of one chat at once; the conversation
row lock lets only one of them handle an update at a time, but whichever reaches the
lock first wins. So each update is noted here on arrival (one statement committed on
its own, before its handling starts), and under the lock an update first asks whether
an older update of its chat has been noted and not handled yet; if so, it waits for
that one.

Every statement here is prepared once and runs straight on asyncpg
(``storage.sqlite.postgres``): the note and the forgetting of a failed update outside
any transaction (PostgreSQL commits a lone statement by itself: one round trip, not
``BEGIN``, the statement and ``COMMIT``), the lock and the question in the update's
own transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, exists, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.util import greenlet_spawn

from storage.models import Conversation, ReceivedUpdate
from storage.sqlite.postgres import Direct
from storage.sqlite.prepared import Params, Prepared, fetch

_RECEIVED = ReceivedUpdate.__table__.c
_CHANNEL = bindparam("channel", type_=_RECEIVED.channel.type)
_CHAT_ID = bindparam("chat_id", type_=_RECEIVED.chat_id.type)
_UPDATE_ID = bindparam("update_id", type_=_RECEIVED.update_id.type)
_NOW = bindparam("now", type_=_RECEIVED.received_at.type)
_OF_CHAT = (ReceivedUpdate.channel == _CHANNEL) & (ReceivedUpdate.chat_id == _CHAT_ID)


def _note_query() -> Any:
    noted = postgresql.insert(ReceivedUpdate).values(
        channel=_CHANNEL, update_id=_UPDATE_ID, chat_id=_CHAT_ID, received_at=_NOW
    )
    noted = noted.on_conflict_do_update(
        index_elements=["channel", "update_id"], set_={"received_at": _NOW}
    )
    conversation = postgresql.insert(Conversation).values(
        channel=_CHANNEL, chat_id=_CHAT_ID, flow="idle", state="idle", data={}, updated_at=_NOW
    )
    return conversation.on_conflict_do_nothing().add_cte(noted.cte("noted"))


def _older_query() -> Any:
    since = bindparam("since", type_=_RECEIVED.received_at.type)
    forgotten = delete(ReceivedUpdate).where(
        _OF_CHAT, (ReceivedUpdate.update_id == _UPDATE_ID) | (ReceivedUpdate.received_at < since)
    )
    older = exists().where(
        _OF_CHAT, ReceivedUpdate.update_id < _UPDATE_ID, ReceivedUpdate.received_at >= since
    )
    return select(older).add_cte(forgotten.cte("forgotten"))


# PostgreSQL only (SQLite has one writer, and one process handles a chat's updates in
# arrival order there).
_NOTE = Prepared(_note_query())
_LOCK = Prepared(
    select(Conversation.id)
    .where(Conversation.channel == _CHANNEL, Conversation.chat_id == _CHAT_ID)
    .with_for_update()
)
_OLDER = Prepared(_older_query())
_FORGET = Prepared(
    delete(ReceivedUpdate).where(
        ReceivedUpdate.channel == _CHANNEL, ReceivedUpdate.update_id == _UPDATE_ID
    )
)


async def _autocommit(engine: AsyncEngine, prepared: Prepared, params: Params) -> None:
    """One statement on a pooled connection, in no transaction: committed when it returns.

    The pool's connection as it is, without SQLAlchemy's ``Connection`` around it
    (which would cost a third of the statement again, measured); going back to the
    pool it is reset as any other, its rollback a no-op with no transaction open.
    """
    raw = await engine.raw_connection()
    try:
        await Direct(raw.dbapi_connection, engine.dialect).execute(prepared, params)
    finally:
        await greenlet_spawn(raw.close)


async def note_received(
    engine: AsyncEngine, channel: str, chat_id: str, update_id: int, now: datetime
) -> None:
    """Note the update as received; make sure its chat has a conversation row to lock.

    One statement that waits for no lock, committed before this returns: the other
    processes see the note from then on.
    """
    params = {"channel": channel, "chat_id": chat_id, "update_id": update_id, "now": now}
    await _autocommit(engine, _NOTE, params)


async def older_one_waiting(
    session: AsyncSession, channel: str, chat_id: str, update_id: int, *, since: datetime
) -> bool:
    """In the update's transaction: lock its chat, forget it, is an older one waiting?

    The lock comes first, in a statement of its own: the question that follows then
    sees every note committed while this waited for the lock. The answer counts
    older updates noted since ``since``; one noted before is presumed lost with its
    process (Telegram sends it again, unanswered), and forgotten here with this one.
    When the answer is yes the transaction is rolled back, forgetting nothing.
    """
    await fetch(session, _LOCK, {"channel": channel, "chat_id": chat_id})
    params = {"channel": channel, "chat_id": chat_id, "update_id": update_id, "since": since}
    return bool((await fetch(session, _OLDER, params))[0][0])


async def forget_received(engine: AsyncEngine, channel: str, update_id: int) -> None:
    """Forget a noted update whose handling failed: nobody waits for it meanwhile."""
    await _autocommit(engine, _FORGET, {"channel": channel, "update_id": update_id})
