"""SQLite's fast path behind the unit of work: buffered writes are seen, batched, or forgotten.

The tests on ``db`` run on SQLite and PostgreSQL with ``SQLITE_FAST_PATH`` as CI sets
it (scripts/test.sh runs them both ways); the rest open SQLite with each setting.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiosqlite
import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import Database
from storage import conversations as convs
from storage.models import Conversation, Message
from storage.sqlite.driver import Connection
from storage.sqlite.transaction import fast_path
from tests.builders import T0


async def _line(session: AsyncSession, text: str, chat: str = "1") -> None:
    await convs.write_message(
        session,
        conversation_id=None,
        customer_id=None,
        channel="telegram",
        chat_id=chat,
        direction="in",
        flow=None,
        text=text,
        payload=None,
        at=T0,
    )


async def _lines(db: Database) -> list[str]:
    async with db.reader() as uow:
        found = await uow.session.scalars(select(Message.text).order_by(Message.id))
        return [t or "" for t in found]


async def _pending(session: AsyncSession) -> list[str]:
    """What the transaction still buffers, by table."""
    buffer = (await fast_path(session)).buffer
    assert buffer is not None
    return sorted(t for s, rows in buffer.pending.items() for t in (s.tables or ()) for _ in rows)


@pytest.fixture(params=[True, False], ids=["fast", "plain"])
async def sqlite_both(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fp.db'}"
    database = await Database.open(url, fast_path=request.param)
    try:
        yield database
    finally:
        await database.close()


async def test_reads_in_a_small_unit_of_work_see_the_rows_written_just_before(
    db: Database,
) -> None:
    async with db.uow(small=True) as uow:
        session = uow.session
        await _line(session, "hello")
        count = await session.scalar(select(func.count()).select_from(Message))  # ORM
        conv = (await convs.load_chat(session, "telegram", "1", T0)).conversation
        await convs.save_state(session, conv, "survey", "asked", {"n": 1}, T0)
        again = (await convs.load_chat(session, "telegram", "1", T0)).conversation  # prepared
        await uow.commit()
    assert count == 1
    assert (again.flow, again.state, again.data) == ("survey", "asked", {"n": 1})
    assert await _lines(db) == ["hello"]


async def test_buffered_rows_wait_for_a_statement_that_could_see_them(db: Database) -> None:
    if not db.fast_path and db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite without its fast path does not buffer")
    async with db.uow(small=True) as uow:
        session = uow.session
        await _line(session, "one")
        conv = (await convs.load_chat(session, "telegram", "2", T0)).conversation
        await _line(session, "two", chat="2")
        await convs.save_state(session, conv, "menu", "shown", {}, T0)
        assert await _pending(session) == ["conversations", "messages", "messages"]
        await convs.load_chat(session, "telegram", "3", T0)  # reads conversations
        # The transcript lines still wait, to go out together in one executemany.
        assert await _pending(session) == ["messages", "messages"]
        await uow.commit()
    assert await _lines(db) == ["one", "two"]


async def test_a_rolled_back_unit_of_work_leaves_no_buffered_row(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.uow(small=True) as uow:
            await _line(uow.session, "lost")
            raise RuntimeError("the update failed")
    async with db.uow(small=True) as uow:
        await _line(uow.session, "kept")
        await uow.commit()
    async with db.uow(small=True) as uow:
        await _line(uow.session, "not committed")  # left without commit()
    assert await _lines(db) == ["kept"]


async def test_a_savepoint_rolled_back_takes_its_buffered_rows_with_it(db: Database) -> None:
    async with db.uow(small=True) as uow:
        session = uow.session
        await _line(session, "before")
        with pytest.raises(RuntimeError):
            async with session.begin_nested():
                await _line(session, "inside")
                raise RuntimeError("this one follow-up failed")
        await _line(session, "after")
        await uow.commit()
    assert await _lines(db) == ["before", "after"]


@pytest.mark.parametrize(
    "check",
    [
        test_reads_in_a_small_unit_of_work_see_the_rows_written_just_before,
        test_a_rolled_back_unit_of_work_leaves_no_buffered_row,
        test_a_savepoint_rolled_back_takes_its_buffered_rows_with_it,
    ],
    ids=["reads see writes", "rollback forgets", "savepoint"],
)
async def test_sqlite_behaves_the_same_with_either_setting(
    sqlite_both: Database, check: Callable[[Database], Awaitable[None]]
) -> None:
    await check(sqlite_both)  # whatever SQLITE_FAST_PATH says


async def test_each_setting_uses_its_own_driver_and_only_the_fast_path_buffers(
    sqlite_both: Database,
) -> None:
    db = sqlite_both
    through_sqlalchemy: list[str] = []

    @event.listens_for(db.engine.sync_engine, "before_cursor_execute")
    def seen(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        through_sqlalchemy.append(statement.split()[0])

    async with db.uow(small=True) as uow:
        driver = (await (await uow.session.connection()).get_raw_connection()).driver_connection
        state = await fast_path(uow.session)
        await _line(uow.session, "hello")
        written_at_once = "INSERT" in through_sqlalchemy
        assert (await uow.session.get(Conversation, 1)) is None
        await uow.commit()
    if db.fast_path:
        assert isinstance(driver, Connection)
        assert state.buffer is not None and state.sqlite is not None
        assert not written_at_once
        assert "INSERT" not in through_sqlalchemy  # written straight on sqlite3
    else:
        assert isinstance(driver, aiosqlite.Connection)
        assert state.buffer is None and state.sqlite is None
        assert written_at_once
    assert await _lines(db) == ["hello"]
