"""Group commit on PostgreSQL: two processes' batches of the same chats, and a deadlock."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import func, select, text

from bot.app import Database
from bot.bootstrap import build_core
from bot.settings import Settings
from flows.events import TextIn
from storage.models import Conversation, HandledUpdate
from tests.builders import T0, Clock, customer_with_delivered_order, incoming
from tests.integration.pg_helpers import transcripts, until_waiting

CHATS = 12
ROUNDS = 5
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("db_url", ["postgres"], indirect=True),
]


def settings() -> Settings:
    return Settings(_env_file=None, default_locale="en")  # type: ignore[call-arg]


async def scalar(db: Database, sql: str) -> int:
    async with db.engine.connect() as conn:
        return int((await conn.execute(text(sql))).scalar_one())


async def deadlocks(db: Database) -> int:
    """Deadlocks PostgreSQL has detected in this database so far."""
    await asyncio.sleep(0.6)  # the statistics reach the view within half a second
    return await scalar(
        db, "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
    )


async def test_two_processes_batching_the_same_chats_in_opposite_orders_lose_nothing(
    db: Database, other: Database, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    first = build_core(db, settings(), clock, operator_commands=False).pipeline
    second = build_core(other, settings(), clock, operator_commands=False).pipeline
    assert first.group is not None and second.group is not None
    chats = [str(7000 + n) for n in range(CHATS)]
    for n, chat in enumerate(chats):
        await customer_with_delivered_order(db, f"pg-{n}", chat_id=chat)
    before = await deadlocks(db)

    # All at once, interleaved: each round of each process in its own order of chats.
    tasks = [
        asyncio.create_task(engine.handle(incoming(TextIn(f"{name}{r}"), chat)))
        for r in range(ROUNDS)
        for engine, name, order in ((first, "a", chats), (second, "b", chats[::-1]))
        for chat in order
    ]
    await asyncio.wait_for(asyncio.gather(*tasks), 60)

    # Every update handled once, each process's updates of a chat in its order.
    lines = await transcripts(db)
    for chat in chats:
        assert [x for x in lines[chat] if x[0] == "a"] == [f"a{r}" for r in range(ROUNDS)]
        assert [x for x in lines[chat] if x[0] == "b"] == [f"b{r}" for r in range(ROUNDS)]
    handled = await scalar(db, "SELECT count(*) FROM handled_updates")
    assert handled == len(tasks) == 2 * ROUNDS * CHATS
    # They shared transactions, and the lock order left nothing to deadlock on.
    assert first.group.largest >= 2 and second.group.largest >= 2
    assert await deadlocks(db) == before
    assert "each alone now" not in caplog.text


async def test_a_deadlock_that_aborts_a_batch_loses_none_of_its_updates(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    engine = build_core(db, settings(), Clock(), operator_commands=False).pipeline
    first, second = "7100", "7101"  # the batch locks them in this order
    async with db.uow() as uow:
        uow.session.add_all(
            Conversation(
                channel="telegram", chat_id=c, flow="idle", state="idle", data={}, updated_at=T0
            )
            for c in (first, second)
        )
        await uow.commit()
    before = await deadlocks(db)

    def lock(chat: str) -> object:
        return select(Conversation.id).where(Conversation.chat_id == chat).with_for_update()

    # Another transaction (the scheduler's, say) locks the chats the other way round.
    caplog.set_level(logging.WARNING, "postsale.engine")
    async with db.engine.connect() as holder:
        # Its deadlock check waits longer: the batch's backend finds the cycle and loses.
        await holder.execute(text("SET LOCAL deadlock_timeout = '30s'"))
        await holder.execute(lock(second))
        batch = asyncio.gather(
            engine.handle(incoming(TextIn("one"), first)),
            engine.handle(incoming(TextIn("two"), second)),
        )
        await until_waiting(db, 1)  # the batch holds the first chat, waits for the second
        await asyncio.wait_for(holder.execute(lock(first)), 20)  # returns once the batch lost
        await holder.rollback()
    await asyncio.wait_for(batch, 20)

    assert await deadlocks(db) == before + 1
    assert "a batch of 2 updates failed" in caplog.text and "each alone now" in caplog.text
    assert (await transcripts(db)) == {first: ["one"], second: ["two"]}
    async with db.uow() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(HandledUpdate)) == 2
