"""Running prepared statements: straight on SQLite when the fast path allows, else SQLAlchemy.

On PostgreSQL (asyncpg) every prepared statement runs straight on
asyncpg (``storage.sqlite.postgres``).

On SQLite, in a unit of work of small statements (inline execution, see
``storage.sqlite.driver``) with the transaction open, a ``Prepared`` statement runs
on the connection's ``sqlite3`` connection directly; anywhere else (PostgreSQL, the
fast path off, a part that reads many rows) it goes through SQLAlchemy as any
statement does. Either way it first sees the transaction's own writes
(``storage.sqlite.transaction``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.sqlite.compiled import Params, Prepared
from storage.sqlite.transaction import before_statement

__all__ = ["Params", "Prepared", "execute", "execute_many", "fetch"]


async def fetch(session: AsyncSession, prepared: Prepared, params: Params) -> list[tuple[Any, ...]]:
    """The rows of a query."""
    found = await before_statement(session, prepared)
    if (postgres := await found.direct_postgres()) is not None:
        return await postgres.fetch(prepared, params)
    sqlite = found.direct()
    if sqlite is None:
        conn = await session.connection()
        result = await conn.execute(prepared.statement(found.dialect), dict(params))
        return [tuple(r) for r in result]
    compiled = prepared.for_sqlite(found.dialect, params)
    return compiled.convert(sqlite.execute(compiled.sql, compiled.row(params)).fetchall())


async def execute(session: AsyncSession, prepared: Prepared, params: Params) -> int:
    """Run a write with one set of parameters; returns the rows it touched."""
    found = await before_statement(session, prepared)
    if (postgres := await found.direct_postgres()) is not None:
        return await postgres.execute(prepared, params)
    sqlite = found.direct()
    if sqlite is None:
        conn = await session.connection()
        return int((await conn.execute(prepared.statement(found.dialect), dict(params))).rowcount)
    compiled = prepared.for_sqlite(found.dialect, params)
    return int(sqlite.execute(compiled.sql, compiled.row(params)).rowcount)


async def execute_many(session: AsyncSession, prepared: Prepared, rows: Sequence[Params]) -> None:
    """Run a write once per set of parameters (all with the same keys)."""
    if not rows:
        return
    found = await before_statement(session, prepared)
    if (postgres := await found.direct_postgres()) is not None:
        await postgres.execute_many(prepared, rows)
        return
    sqlite = found.direct()
    if sqlite is None:
        conn = await session.connection()
        await conn.execute(prepared.statement(found.dialect), [dict(r) for r in rows])
        return
    compiled = prepared.for_sqlite(found.dialect, rows[0])
    sqlite.executemany(compiled.sql, [compiled.row(r) for r in rows])
