"""Our SQLite driver on a real file: results, streaming, errors, and the trip count.

Always with the fast path on (it is the fast path's driver), whatever ``SQLITE_FAST_PATH``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from bot.app import Database
from storage.sqlite import driver as sqlite_driver
from storage.sqlite.driver import PREFETCH, Connection


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(f"sqlite+aiosqlite:///{tmp_path / 'fast.db'}", fast_path=True)
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
async def trips(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the calls queued on SQLite's connection threads (one entry per call)."""
    calls: list[int] = []
    original = Connection._call

    async def counted(self: Connection, fn: object) -> object:
        calls.append(1)
        return await original(self, fn)  # type: ignore[arg-type]

    monkeypatch.setattr(Connection, "_call", counted)
    return calls


def test_the_driver_is_ours_not_aiosqlites() -> None:
    # Nothing of aiosqlite to lean on: no subclass, no import (hence no version pin).
    assert aiosqlite.Connection not in Connection.__mro__
    assert not any(value is aiosqlite for value in vars(sqlite_driver).values())


async def test_a_statement_is_one_trip_to_the_database_thread(
    sqlite_db: Database, trips: list[int]
) -> None:
    async with sqlite_db.uow() as uow:
        await uow.session.execute(text("CREATE TEMP TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
        trips.clear()
        await uow.session.execute(text("INSERT INTO t (v) VALUES ('a'), ('b'), ('c')"))
        rows = (await uow.session.execute(text("SELECT id, v FROM t ORDER BY id"))).all()
        assert trips == [1, 1]
    assert [tuple(r) for r in rows] == [(1, "a"), (2, "b"), (3, "c")]


async def test_lastrowid_and_rowcount_survive_the_closed_cursor(tmp_path: Path) -> None:
    conn = sqlite_driver.connect(tmp_path / "d.db")
    await conn
    try:
        cursor = conn.cursor()
        await cursor.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        await cursor.execute("INSERT INTO t (v) VALUES (?)", ("x",))
        assert (cursor.lastrowid, cursor.rowcount, cursor.description) == (1, 1, None)
        await cursor.executemany("INSERT INTO t (v) VALUES (?)", [("y",), ("z",)])
        assert cursor.rowcount == 2
        await cursor.execute("UPDATE t SET v = 'w' WHERE id > 1")
        assert cursor.rowcount == 2
        await cursor.execute("SELECT v FROM t ORDER BY id")
        assert cursor.description is not None and cursor.description[0][0] == "v"
        assert await cursor.fetchone() == ("x",)
        assert await cursor.fetchall() == [("w",), ("w",)]
        assert await cursor.fetchone() is None
    finally:
        await conn.close()


async def test_a_long_result_is_fetched_in_parts_and_streams_whole(
    sqlite_db: Database, trips: list[int]
) -> None:
    total = PREFETCH * 2 + 7
    async with sqlite_db.uow() as uow:
        session = uow.session
        await session.execute(text("CREATE TEMP TABLE n (i INTEGER)"))
        await session.execute(
            text(
                "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < :n) "
                "INSERT INTO n SELECT i FROM c"
            ),
            {"n": total},
        )
        query = text("SELECT i FROM n ORDER BY i")
        trips.clear()
        whole = (await session.execute(query)).scalars().all()
        assert whole == list(range(1, total + 1))
        assert len(trips) == 2  # the statement with its first rows, then the rest

        streamed: list[int] = []
        trips.clear()
        result = await session.stream(query)
        async for part in result.scalars().partitions(300):
            assert len(part) <= 300
            streamed.extend(part)
        assert streamed == whole
        assert len(trips) >= 3  # fetched as it was read, not all with the statement


async def test_errors_reach_sqlalchemy_as_its_own_and_the_connection_stays_usable(
    sqlite_db: Database,
) -> None:
    async with sqlite_db.uow() as uow:
        session = uow.session
        await session.execute(text("CREATE TEMP TABLE u (k TEXT PRIMARY KEY)"))
        await session.execute(text("INSERT INTO u VALUES ('a')"))
        with pytest.raises(IntegrityError):
            await session.execute(text("INSERT INTO u VALUES ('a')"))
        await session.rollback()
    async with sqlite_db.uow() as uow:
        await uow.session.execute(text("CREATE TEMP TABLE u (k TEXT PRIMARY KEY)"))
        await uow.session.execute(text("INSERT INTO u VALUES ('b')"))
        count = await uow.session.scalar(text("SELECT count(*) FROM u"))
        assert count == 1


async def create_table(db: Database, definition: str) -> None:
    async with db.uow() as uow:
        await uow.session.execute(text(f"CREATE TABLE IF NOT EXISTS {definition}"))
        await uow.commit()


async def test_the_pool_rolls_back_only_what_is_left_open(
    sqlite_db: Database, trips: list[int]
) -> None:
    await create_table(sqlite_db, "x (k TEXT)")
    trips.clear()
    async with sqlite_db.uow() as uow:
        await uow.session.execute(text("INSERT INTO x VALUES ('kept')"))
        await uow.commit()
    assert len(trips) == 3  # BEGIN IMMEDIATE, INSERT, COMMIT: no ROLLBACK on return

    async with sqlite_db.engine.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        assert isinstance(driver, Connection)
        cursor = driver.cursor()
        await cursor.execute("BEGIN IMMEDIATE")  # behind SQLAlchemy's back
        await cursor.execute("INSERT INTO x VALUES ('left open')")
        assert driver.in_transaction
    assert not driver.in_transaction  # the pool rolled it back on return
    async with sqlite_db.uow() as uow:  # the write lock is free again
        await uow.session.execute(text("INSERT INTO x VALUES ('after')"))
        await uow.commit()
        found = (await uow.session.execute(text("SELECT k FROM x ORDER BY rowid"))).scalars()
        assert found.all() == ["kept", "after"]


async def test_inline_statements_of_an_open_transaction_skip_the_thread(
    sqlite_db: Database, trips: list[int]
) -> None:
    await create_table(sqlite_db, "y (k TEXT)")
    trips.clear()
    async with sqlite_db.uow(small=True) as uow:
        await uow.session.execute(text("INSERT INTO y VALUES ('a')"))  # BEGIN: a trip
        await uow.session.execute(text("INSERT INTO y VALUES ('b')"))
        found = (await uow.session.execute(text("SELECT k FROM y"))).scalars().all()
        with uow.reads_many():
            await uow.session.execute(text("INSERT INTO y VALUES ('c')"))  # a trip
        await uow.commit()  # a trip: a COMMIT may checkpoint
    assert found == ["a", "b"]
    assert len(trips) == 3  # BEGIN IMMEDIATE, the INSERT in reads_many(), COMMIT
    async with sqlite_db.uow() as uow:  # committed for everyone to see
        count = await uow.session.scalar(text("SELECT count(*) FROM y"))
        assert count == 3


async def test_inline_errors_are_sqlalchemys_and_roll_back_on_the_thread(
    sqlite_db: Database,
) -> None:
    await create_table(sqlite_db, "v (k TEXT PRIMARY KEY)")
    with pytest.raises(IntegrityError):
        async with sqlite_db.uow(small=True) as uow:
            await uow.session.execute(text("INSERT INTO v VALUES ('a')"))
            await uow.session.execute(text("INSERT INTO v VALUES ('a')"))
    async with sqlite_db.uow(small=True) as uow:  # the lock was released by the rollback
        await uow.session.execute(text("INSERT INTO v VALUES ('b')"))
        await uow.commit()
    async with sqlite_db.uow() as uow:
        rows = (await uow.session.execute(text("SELECT k FROM v"))).scalars().all()
        assert rows == ["b"]
