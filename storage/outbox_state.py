"""The sending side of the outbox in SQL: which message of each chat is next, and results."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import String, Table, bindparam, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ChannelIdentity, Customer, OutboxMessage
from storage.sqlite.prepared import Prepared, execute, execute_many

BLOCKED = "blocked"
UNKNOWN = "unknown"  # the status of a message whose delivery could not be confirmed


@dataclass(frozen=True)
class Head:
    """The oldest queued message of one chat: the only one of that chat that may go next."""

    id: int
    channel: str
    chat_id: str
    customer_id: int | None
    body: dict[str, Any]
    attempts: int
    not_before: datetime | None
    purpose: str
    created_at: datetime
    deadline: datetime | None
    unknowns: int

    @property
    def key(self) -> tuple[str, str]:
        return (self.channel, self.chat_id)


_HEAD_COLUMNS = (
    "id",
    "channel",
    "chat_id",
    "customer_id",
    "body",
    "attempts",
    "not_before",
    "purpose",
    "created_at",
    "deadline",
    "unknowns",
)
# ``channel || ''``: SQLite would otherwise walk ix_outbox_chat (every message of the
# channel, sent ones too: a read grew with the outbox) instead of taking the queued
# messages from ix_outbox_status_id.
_CHANNEL = OutboxMessage.channel + ""
_KEYS = (OutboxMessage.id, OutboxMessage.channel, OutboxMessage.chat_id)
# The statements are built once: building and keying one costs more than running it.
_QUEUED = (
    OutboxMessage.status == "queued",
    _CHANNEL.in_(bindparam("channels", expanding=True)),
)
# The oldest queued messages, in id order: a window of the queue, read by index order.
_WINDOW = select(*_KEYS).where(*_QUEUED).order_by(OutboxMessage.id).limit(bindparam("window"))


def _grouped_heads() -> Any:
    head = func.min(OutboxMessage.id).label("head")
    return (
        select(head, OutboxMessage.channel, OutboxMessage.chat_id)
        .where(*_QUEUED)
        .group_by(OutboxMessage.channel, OutboxMessage.chat_id)
        .order_by(head)
        .limit(bindparam("limit"))
    )


# Every queued message grouped by chat: only when the window was not enough.
_GROUPED = _grouped_heads()
_ROWS = (
    select(*(getattr(OutboxMessage, name) for name in _HEAD_COLUMNS))
    .where(OutboxMessage.id.in_(bindparam("ids", expanding=True)))
    .order_by(OutboxMessage.id)
)


async def chat_heads(
    session: AsyncSession,
    channels: Collection[str],
    limit: int,
    skip: Collection[tuple[str, str]] = (),
) -> Sequence[Head]:
    """The head message of up to ``limit`` chats with queued messages, oldest first.

    Only each chat's first queued message is returned: a chat's next message waits
    for the previous one, while a busy chat never hides the other chats. Chats in
    ``skip`` (those the caller already holds) are left out.

    The heads are picked from a window of the oldest queued messages, so a read
    costs the window, not the whole queue (a backlog of thousands made every read
    a scan of all of it). A chat seen in the window has its head there: every
    older queued message is in it too. Only when the window is full and yields too
    few chats (a few chats with long queues) are all queued messages grouped. Each
    pick is one statement: on PostgreSQL's read committed, two statements could
    see different commits and so miss a chat's older message.
    """
    if limit <= 0:
        return []
    connection = await session.connection()
    names = list(channels)
    window = 2 * (limit + len(skip)) + 64
    rows = (await connection.execute(_WINDOW, {"channels": names, "window": window})).all()
    ids = _first_of_each_chat(rows, skip, limit)
    if len(ids) < limit and len(rows) == window:
        wanted = {"channels": names, "limit": limit + len(skip)}
        ids = _first_of_each_chat((await connection.execute(_GROUPED, wanted)).all(), skip, limit)
    if not ids:
        return []
    return [Head(*row) for row in await connection.execute(_ROWS, {"ids": ids})]


def _first_of_each_chat(
    rows: Sequence[Any], skip: Collection[tuple[str, str]], limit: int
) -> list[int]:
    """The ids of the first row of each chat not in ``skip``, at most ``limit``."""
    seen = set(skip)
    ids: list[int] = []
    for message_id, channel, chat_id in rows:
        key = (channel, chat_id)
        if key in seen:
            continue
        seen.add(key)
        ids.append(message_id)
        if len(ids) == limit:
            break
    return ids


_TABLE = cast(Table, OutboxMessage.__table__)


def _queued_update(**values: Any) -> Prepared:
    """An UPDATE of one queued message (``message_id``), in Core, prepared once."""
    where = (_TABLE.c.id == bindparam("message_id"), _TABLE.c.status == "queued")
    return Prepared(update(_TABLE).where(*where).values(**values))


# As long as the column holds (a WhatsApp wamid can pass 64 characters): a cut id would
# match no status webhook.
REMOTE_ID_LENGTH = cast(String, _TABLE.c.remote_id.type).length or 128

_MARK_SENT = _queued_update(
    status="sent",
    sent_at=bindparam("now"),
    remote_id=bindparam("remote"),
    attempts=_TABLE.c.attempts + 1,
)


async def mark_sent(session: AsyncSession, sent: Sequence[tuple[int, str]], now: datetime) -> None:
    """Mark messages sent: (outbox id, remote message id) pairs, in one statement."""
    if not sent:
        return
    # An executemany of one UPDATE with the ids bound per row.
    params = [
        {"message_id": mid, "remote": remote[:REMOTE_ID_LENGTH], "now": now} for mid, remote in sent
    ]
    await execute_many(session, _MARK_SENT, params)


async def mark_retry(
    session: AsyncSession,
    message_id: int,
    attempts: int,
    error: str,
    not_before: datetime,
    unknowns: int = 0,
) -> None:
    """Keep the message queued, to be tried again no earlier than ``not_before``."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == "queued")
        .values(attempts=attempts, error=error[:500], not_before=not_before, unknowns=unknowns)
    )


# Core, prepared: a refused keyboard edit (a 400) may come with every button press,
# and the ORM's UPDATE (its session synchronisation) cost several times the statement.
_MARK_FAILED = _queued_update(
    status="failed",
    failed_at=bindparam("now"),
    error=bindparam("error"),
    attempts=bindparam("attempts"),
)


async def mark_failed(
    session: AsyncSession, message_id: int, reason: str, now: datetime, attempts: int
) -> None:
    params = {"message_id": message_id, "now": now, "error": reason[:500], "attempts": attempts}
    await execute(session, _MARK_FAILED, params)


async def mark_blocked(session: AsyncSession, head: Head, reason: str, now: datetime) -> int:
    """The person blocked the bot: fail the chat's queued messages, mark them unreachable."""
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.channel == head.channel,
            OutboxMessage.chat_id == head.chat_id,
            OutboxMessage.status == "queued",
        )
        .values(status="failed", failed_at=now, error=f"{BLOCKED}: {reason}"[:500])
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(ChannelIdentity)
        .where(
            ChannelIdentity.channel == head.channel,
            ChannelIdentity.chat_id == head.chat_id,
            ChannelIdentity.unreachable_at.is_(None),
        )
        .values(unreachable_at=now)
        .execution_options(synchronize_session=False)
    )
    # The customer is unreachable once no chat of theirs can be reached.
    reachable = exists().where(
        ChannelIdentity.customer_id == Customer.id, ChannelIdentity.unreachable_at.is_(None)
    )
    if head.customer_id is not None:
        await session.execute(
            update(Customer)
            .where(Customer.id == head.customer_id, Customer.unreachable_at.is_(None), ~reachable)
            .values(unreachable_at=now)
            .execution_options(synchronize_session=False)
        )
    count: int = getattr(result, "rowcount", 0)
    return max(count, 0)


@dataclass(frozen=True)
class OutboxCounts:
    queued: int
    sent: int
    failed: int
    unknown: int = 0


async def outbox_counts(session: AsyncSession) -> OutboxCounts:
    rows = (
        await session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        )
    ).all()
    by_status = {status: int(n) for status, n in rows}
    return OutboxCounts(
        by_status.get("queued", 0),
        by_status.get("sent", 0),
        by_status.get("failed", 0),
        by_status.get(UNKNOWN, 0),
    )


async def queued_count(session: AsyncSession) -> int:
    query = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "queued")
    return int(await session.scalar(query) or 0)


async def latest_failures(session: AsyncSession, limit: int = 20) -> Sequence[OutboxMessage]:
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.status.in_(("failed", UNKNOWN)))
        .order_by(OutboxMessage.failed_at.desc(), OutboxMessage.id.desc())
        .limit(limit)
    )
    return (await session.scalars(query)).all()
