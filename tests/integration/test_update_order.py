"""Per-chat update-id order across two engines (two processes) on one PostgreSQL database."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.app import Database
from bot.bootstrap import build_core
from bot.handling import UpdateContext
from bot.settings import Settings
from flows.events import CommandIn, TextIn
from storage.models import Conversation, ReceivedUpdate
from storage.received import note_received
from tests.builders import Clock, incoming
from tests.integration.pg_helpers import transcripts, until_waiting

CHATS = 8  # each engine's waiting updates hold a pooled connection: under the pool's size
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("db_url", ["postgres"], indirect=True),
]


def webhook_settings() -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        default_locale="en",
        webhook_url="https://bot.example.test/tg/hook",
        webhook_secret="s3cret",
    )


async def test_an_older_update_received_by_one_process_goes_before_a_newer_one_of_another(
    db: Database, other: Database
) -> None:
    settings = webhook_settings()
    clock = Clock()
    first, second = (
        build_core(db, settings, clock, operator_commands=False).pipeline,
        build_core(other, settings, clock, operator_commands=False).pipeline,
    )
    chats = [str(9000 + n) for n in range(CHATS)]
    async with db.uow() as uow:  # chats that have talked before
        uow.session.add_all(
            Conversation(
                channel="telegram",
                chat_id=c,
                flow="idle",
                state="idle",
                data={},
                updated_at=clock(),
            )
            for c in chats
        )
        await uow.commit()

    # Something holds every chat's conversation (an update of each being handled), so
    # both processes' updates queue on the row lock: the newer ones first.
    async with db.engine.connect() as holder:
        await holder.execute(
            select(Conversation.id).where(Conversation.chat_id.in_(chats)).with_for_update()
        )
        newer = [
            asyncio.create_task(
                second.handle(incoming(TextIn("newer"), c, update_id=str(80_001 + 2 * n)))
            )
            for n, c in enumerate(chats)
        ]
        await until_waiting(db, CHATS)
        older = [
            asyncio.create_task(
                first.handle(incoming(TextIn("older"), c, update_id=str(80_000 + 2 * n)))
            )
            for n, c in enumerate(chats)
        ]
        await until_waiting(db, 2 * CHATS)
        await holder.rollback()
    await asyncio.gather(*newer, *older)

    lines = await transcripts(db)
    assert [lines[c] for c in chats] == [["older", "newer"]] * CHATS
    async with db.uow() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(ReceivedUpdate)) == 0


async def test_an_older_update_lost_with_its_process_holds_a_newer_one_only_briefly(
    db: Database,
) -> None:
    settings = webhook_settings()
    clock = Clock()
    engine = build_core(db, settings, clock, operator_commands=False).pipeline
    assert engine.order is not None
    engine.order.wait = timedelta(seconds=0.3)
    # Noted by a process that died before handling it.
    await note_received(db.engine, "telegram", "9100", 90_000, clock())

    await asyncio.wait_for(engine.handle(incoming(TextIn("newer"), "9100", update_id="90001")), 5)
    # Telegram sends the unanswered one again: late, but handled, not dropped.
    await engine.handle(incoming(TextIn("older"), "9100", update_id="90000"))

    assert (await transcripts(db))["9100"] == ["newer", "older"]


async def test_an_update_whose_handling_failed_holds_no_newer_one_back(db: Database) -> None:
    async def broken(ctx: UpdateContext) -> bool:
        raise RuntimeError("operator command failed")

    engine = build_core(db, webhook_settings(), Clock(), operator_commands=False).pipeline
    engine.operator_handler = broken
    assert engine.order is not None
    engine.order.wait = timedelta(seconds=60)
    with pytest.raises(RuntimeError):
        await engine.handle(incoming(CommandIn("tickets", ""), "9300", update_id="96000"))

    # Waited for, it would hold this one back for the full minute.
    newer = engine.handle(incoming(TextIn("hi"), "9300", update_id="96001"))
    await asyncio.wait_for(newer, 20)
    assert (await transcripts(db))["9300"] == ["hi"]


async def test_a_long_polling_bot_handles_updates_without_noting_them(db: Database) -> None:
    polling = Settings(_env_file=None, default_locale="en")  # type: ignore[call-arg]
    engine = build_core(
        db, polling, Clock(), operator_commands=False
    ).pipeline  # one poller reads a bot's updates, in order

    await engine.handle(incoming(TextIn("hello"), "9200", update_id="95000"))

    assert (await transcripts(db))["9200"] == ["hello"]
    async with db.uow() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(ReceivedUpdate)) == 0
