"""Which queued message of each chat the sender takes next (storage.outbox_state.chat_heads).

Checked against the answer worked out in Python from every row, on SQLite and on
PostgreSQL, for queues that the window of oldest messages covers and for queues
where a few long chats fill the window (the grouped fallback).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

from sqlalchemy import func, select, update

from bot.app import Database
from storage.models import OutboxMessage
from storage.outbox import enqueue
from storage.outbox_body import OutboxBody
from storage.outbox_state import chat_heads

NOW = datetime(2024, 3, 5, 15, 0, tzinfo=UTC)


async def queue(db: Database, chats: list[tuple[str, str]]) -> None:
    """One outbox message per (channel, chat), in this order."""
    async with db.uow() as uow:
        for n, (channel, chat) in enumerate(chats):
            await enqueue(
                uow.session,
                channel=channel,
                chat_id=chat,
                body=OutboxBody(text=f"m{n}"),
                purpose="reply",
                now=NOW,
            )
        await uow.commit()


async def expected_heads(
    db: Database, channels: set[str], limit: int, skip: set[tuple[str, str]]
) -> list[int]:
    """Each chat's oldest queued message, oldest first, from every row of the table."""
    async with db.reader() as uow:
        rows = (await uow.session.execute(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    first: dict[tuple[str, str], int] = {}
    for (row,) in rows:
        key = (row.channel, row.chat_id)
        if row.status == "queued" and row.channel in channels and key not in first:
            first[key] = row.id
    return sorted(mid for key, mid in first.items() if key not in skip)[:limit]


async def heads(
    db: Database, channels: set[str], limit: int, skip: set[tuple[str, str]]
) -> list[int]:
    async with db.reader() as uow:
        found = await chat_heads(uow.session, channels, limit, skip=skip)
    return [head.id for head in found]


async def test_each_chat_offers_only_its_oldest_queued_message_oldest_chat_first(
    db: Database,
) -> None:
    await queue(db, [("telegram", "a"), ("telegram", "b"), ("telegram", "a"), ("console", "c")])
    async with db.uow() as uow:
        # a's first message went out: its second is now its head.
        first_a = await uow.session.scalar(select(func.min(OutboxMessage.id)))
        await uow.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == first_a).values(status="sent")
        )
        await uow.commit()
    async with db.reader() as uow:
        found = await chat_heads(uow.session, ["telegram"], 10)
    assert [(h.chat_id, h.body["text"]) for h in found] == [("b", "m1"), ("a", "m2")]
    assert all(h.channel == "telegram" and h.attempts == 0 for h in found)


async def test_held_chats_are_left_out_and_do_not_count_against_the_limit(db: Database) -> None:
    await queue(db, [("telegram", str(n % 6)) for n in range(30)])
    held = {("telegram", "0"), ("telegram", "1")}
    found = await heads(db, {"telegram"}, 3, held)
    assert found == await expected_heads(db, {"telegram"}, 3, held)
    assert len(found) == 3


async def test_a_few_long_chats_in_front_do_not_hide_the_chats_behind_them(db: Database) -> None:
    # 300 messages of two chats come first: more than the window of a 2-chat read.
    front = [("telegram", "busy-1"), ("telegram", "busy-2")] * 150
    await queue(db, [*front, ("telegram", "late-1"), ("telegram", "late-2")])
    found = await heads(db, {"telegram"}, 4, set())
    assert found == await expected_heads(db, {"telegram"}, 4, set())
    async with db.reader() as uow:
        chats = [h.chat_id for h in await chat_heads(uow.session, ["telegram"], 4)]
    assert chats == ["busy-1", "busy-2", "late-1", "late-2"]
    # Holding the busy chats, the reader still finds the late ones.
    skip = {("telegram", "busy-1"), ("telegram", "busy-2")}
    assert await heads(db, {"telegram"}, 2, skip) == await expected_heads(db, {"telegram"}, 2, skip)


async def test_random_queues_match_the_answer_from_every_row(db: Database) -> None:
    rng = random.Random(20261123)
    chats = [(rng.choice(["telegram", "whatsapp"]), f"c{n}") for n in range(40)]
    # Skewed: a few chats hold most messages, so some reads need the fallback.
    weights = [30 if n < 3 else 1 for n in range(len(chats))]
    await queue(db, rng.choices(chats, weights, k=400))
    async with db.uow() as uow:
        ids = list((await uow.session.scalars(select(OutboxMessage.id))).all())
        for message_id in rng.sample(ids, 150):
            status = rng.choice(["sent", "failed"])
            await uow.session.execute(
                update(OutboxMessage).where(OutboxMessage.id == message_id).values(status=status)
            )
        await uow.commit()
    for _ in range(40):
        channels = set(rng.sample(["telegram", "whatsapp"], rng.randint(1, 2)))
        skip = set(rng.sample(chats, rng.randint(0, 10)))
        limit = rng.randint(1, 12)
        assert await heads(db, channels, limit, skip) == await expected_heads(
            db, channels, limit, skip
        )
