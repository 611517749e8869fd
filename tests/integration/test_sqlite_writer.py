"""Units of work on SQLite take turns on one writer lock; PostgreSQL runs them side by side."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select, text

from bot.app import Database
from storage.db import SQLITE_CACHE_KIB
from storage.models import HandledUpdate
from storage.uow import UnitOfWork
from tests.builders import Clock


async def _mark(db: Database, update_id: str, log: list[str], pause: float) -> None:
    async with db.uow() as uow:
        log.append(f"begin {update_id}")
        uow.session.add(HandledUpdate(channel="t", update_id=update_id, handled_at=Clock().now))
        await uow.session.flush()
        await asyncio.sleep(pause)  # other tasks run while this transaction is open
        await uow.commit()
        log.append(f"commit {update_id}")


async def _handled(db: Database) -> int:
    async with db.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(HandledUpdate)) or 0)


async def test_concurrent_units_of_work_on_sqlite_both_commit_one_after_the_other(
    sqlite_db: Database,
) -> None:
    log: list[str] = []
    await asyncio.gather(_mark(sqlite_db, "1", log, 0.05), _mark(sqlite_db, "2", log, 0.0))
    assert log == ["begin 1", "commit 1", "begin 2", "commit 2"]
    assert await _handled(sqlite_db) == 2


async def test_many_concurrent_writers_on_sqlite_never_see_database_is_locked(
    sqlite_db: Database,
) -> None:
    log: list[str] = []
    await asyncio.gather(*(_mark(sqlite_db, str(n), log, 0.001) for n in range(40)))
    assert await _handled(sqlite_db) == 40


async def test_a_failed_unit_of_work_on_sqlite_frees_the_writer_lock(sqlite_db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with sqlite_db.uow():
            raise RuntimeError("boom")
    assert sqlite_db.writer_lock is not None and not sqlite_db.writer_lock.locked()
    log: list[str] = []
    await asyncio.wait_for(_mark(sqlite_db, "after", log, 0.0), 5)
    assert log == ["begin after", "commit after"]


async def test_a_cancelled_unit_of_work_on_sqlite_frees_the_writer_lock(
    sqlite_db: Database,
) -> None:
    started = asyncio.Event()

    async def hold() -> None:
        async with sqlite_db.uow() as uow:
            uow.session.add(HandledUpdate(channel="t", update_id="lost", handled_at=Clock().now))
            await uow.session.flush()
            started.set()
            await asyncio.sleep(10)

    task = asyncio.create_task(hold())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    log: list[str] = []
    await asyncio.wait_for(_mark(sqlite_db, "next", log, 0.0), 5)
    assert await _handled(sqlite_db) == 1  # the cancelled one was rolled back


async def test_a_reader_on_sqlite_neither_waits_for_an_open_writer_nor_sees_its_rows(
    sqlite_db: Database,
) -> None:
    async def read() -> int:
        async with sqlite_db.reader() as uow:
            query = select(func.count()).select_from(HandledUpdate)
            return int(await uow.session.scalar(query) or 0)

    async with sqlite_db.uow() as writer:
        writer.session.add(HandledUpdate(channel="t", update_id="1", handled_at=Clock().now))
        await writer.session.flush()
        assert await asyncio.wait_for(read(), 5) == 0
        await writer.commit()
    assert await read() == 1


@pytest.mark.postgres
async def test_units_of_work_on_postgresql_overlap(postgres_url: str) -> None:
    db = await Database.open(postgres_url)
    try:
        assert db.writer_lock is None
        first, second = db.uow(), db.uow()
        async with first, second:  # two transactions open at once: no lock between them
            assert isinstance(first, UnitOfWork) and first.session is not second.session
    finally:
        await db.close()


async def test_every_pooled_sqlite_connection_caches_at_most_1_mib(sqlite_db: Database) -> None:
    # A reader beside an open writer: two connections of the pool at once.
    async with sqlite_db.uow() as writer, sqlite_db.reader() as reader:
        sizes = [await uow.session.scalar(text("PRAGMA cache_size")) for uow in (writer, reader)]
    assert sizes == [-SQLITE_CACHE_KIB, -SQLITE_CACHE_KIB]  # negative: KiB, not pages
