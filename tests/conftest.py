"""Shared fixtures: a real database on SQLite and on PostgreSQL.

Tests that take ``db`` run twice: on a fresh SQLite file and on a private
PostgreSQL database created for this test session (skipped, with the reason,
when the server at ``POSTSALE_TEST_PG`` is not reachable). SQLite opens with
``SQLITE_FAST_PATH`` from the environment (``Database.open``): scripts/test.sh runs
the storage and engine suites with it on, then off.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from benchmarks.olist import find_olist_dir
from bot.app import Database

PG_ADMIN_URL = os.environ.get(
    "POSTSALE_TEST_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
OLIST_DIR = find_olist_dir()


async def _pg_admin(sql: str) -> None:
    import asyncpg

    dsn = PG_ADMIN_URL.replace("postgresql+asyncpg", "postgresql")
    conn = await asyncpg.connect(dsn, timeout=3)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A private PostgreSQL database for this test session, migrated once."""
    name = f"postsale_t_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure means "no server here"
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"

    async def _migrate() -> None:
        db = await Database.open(url)
        await db.close()

    asyncio.run(_migrate())
    yield url
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'postsale.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    """An empty, migrated database (SQLite file or PostgreSQL), closed afterwards."""
    database = await Database.open(db_url)
    if database.engine.dialect.name == "postgresql":
        async with database.engine.begin() as conn:
            tables = (
                await conn.execute(
                    text(
                        "SELECT string_agg(quote_ident(tablename), ', ') FROM pg_tables "
                        "WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
                    )
                )
            ).scalar_one()
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    """An empty, migrated SQLite database only (for tests about SQLite itself)."""
    database = await Database.open(f"sqlite+aiosqlite:///{tmp_path / 'postsale.db'}")
    try:
        yield database
    finally:
        await database.close()
