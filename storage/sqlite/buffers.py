"""A transaction's buffered writes: on SQLite straight on ``sqlite3``, on PostgreSQL on asyncpg.

``storage.sqlite.transaction`` says when they are written. Each statement's rows go
out in one executemany: on SQLite without a trip to the database's thread, on
PostgreSQL in one round trip (asyncpg pipelines the rows before one Sync).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from sqlalchemy.engine import Dialect
from sqlalchemy.util import await_

from storage.sqlite.compiled import Params, Prepared
from storage.sqlite.postgres import Direct

Due = dict[Prepared, list[Params]]


def _touches(statement: Prepared, tables: frozenset[str]) -> bool:
    return statement.tables is None or not statement.tables.isdisjoint(tables)


@dataclass
class Pending:
    """Pending rows, grouped by statement, in the order each statement was first used."""

    pending: Due = field(default_factory=dict, init=False)

    def add(self, statement: Prepared, row: Params) -> None:
        self.pending.setdefault(statement, []).append(row)

    def take(self, tables: frozenset[str] | None) -> Due:
        """The rows of statements touching ``tables`` (all of them when None), now taken."""
        if not self.pending:
            return {}
        if tables is None:
            due, self.pending = self.pending, {}
            return due
        due = {s: rows for s, rows in self.pending.items() if _touches(s, tables)}
        for statement in due:
            del self.pending[statement]
        return due


@dataclass
class WriteBuffer(Pending):
    """SQLite: written straight on ``sqlite3`` (the transaction is open, the rows small)."""

    sqlite: sqlite3.Connection
    dialect: Dialect

    def flush(self, tables: frozenset[str] | None = None) -> None:
        """Write the rows of statements touching ``tables`` (all of them when None)."""
        for statement, rows in self.take(tables).items():
            compiled = statement.for_sqlite(self.dialect, rows[0])
            self.sqlite.executemany(compiled.sql, [compiled.row(r) for r in rows])


@dataclass
class PostgresBuffer(Pending):
    """PostgreSQL: written on the transaction's asyncpg connection (``Direct``)."""

    direct: Direct

    async def write_out(self, tables: frozenset[str] | None = None) -> None:
        """Write the rows of statements touching ``tables`` (all of them when None)."""
        for statement, rows in self.take(tables).items():
            if len(rows) == 1:
                await self.direct.execute(statement, rows[0])
            else:
                await self.direct.execute_many(statement, rows)

    def flush(self, tables: frozenset[str] | None = None) -> None:
        """``write_out`` from SQLAlchemy's events, which run in its greenlet."""
        if self.pending:
            await_(self.write_out(tables))
