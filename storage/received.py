"""Updates received and not yet handled: what keeps one chat in update-id order.

Several webhook processes may receive updates of one chat at once; the conversation
row lock lets only one of them handle an update at a time, but whichever reaches the
lock first wins. So each update is noted here on arrival (a short transaction of its
own), and under the lock an update first asks whether an older update of its chat
has been noted and not handled yet; if so, it waits for that one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, exists, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Conversation, ReceivedUpdate


async def note_received(
    session: AsyncSession, channel: str, chat_id: str, update_id: int, now: datetime
) -> None:
    """Note the update as received; make sure its chat has a conversation row to lock.

    One statement that waits for no lock (PostgreSQL only: SQLite has one writer,
    and one process handles a chat's updates in arrival order there).
    """
    noted = postgresql.insert(ReceivedUpdate).values(
        channel=channel, update_id=update_id, chat_id=chat_id, received_at=now
    )
    noted = noted.on_conflict_do_update(
        index_elements=["channel", "update_id"], set_={"received_at": now}
    )
    conversation = postgresql.insert(Conversation).values(
        channel=channel, chat_id=chat_id, flow="idle", state="idle", data={}, updated_at=now
    )
    await session.execute(conversation.on_conflict_do_nothing().add_cte(noted.cte("noted")))


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
    await session.execute(
        select(Conversation.id)
        .where(Conversation.channel == channel, Conversation.chat_id == chat_id)
        .with_for_update()
    )
    of_chat = (ReceivedUpdate.channel == channel) & (ReceivedUpdate.chat_id == chat_id)
    forgotten = delete(ReceivedUpdate).where(
        of_chat,
        (ReceivedUpdate.update_id == update_id) | (ReceivedUpdate.received_at < since),
    )
    older = exists().where(
        of_chat, ReceivedUpdate.update_id < update_id, ReceivedUpdate.received_at >= since
    )
    return bool(await session.scalar(select(older).add_cte(forgotten.cte("forgotten"))))


async def forget_received(session: AsyncSession, channel: str, update_id: int) -> None:
    """Forget a noted update whose handling failed: nobody waits for it meanwhile."""
    await session.execute(
        delete(ReceivedUpdate).where(
            ReceivedUpdate.channel == channel, ReceivedUpdate.update_id == update_id
        )
    )
