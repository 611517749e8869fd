"""A transaction's buffered writes: on SQLite straight on ``sqlite3``, on PostgreSQL on asyncpg.

``storage.sqlite.transaction`` says when they are written. Each statement's rows go
out in one executemany: on SQLite without a trip to the database's thread, on
PostgreSQL in one round trip (asyncpg pipelines the rows before one Sync). On
PostgreSQL the statements of an update (its transcript lines, outbox rows and new
state) usually go out together in one statement instead (``combined``).
"""

from __future__ import annotations

import functools
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

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
        due = self.take(tables)
        if len(due) > 1 and (together := combined(due, self.direct.dialect)) is not None:
            await self.direct.execute_sql(*together)
            return
        for statement, rows in due.items():
            if len(rows) == 1:
                await self.direct.execute(statement, rows[0])
            else:
                await self.direct.execute_many(statement, rows)

    def flush(self, tables: frozenset[str] | None = None) -> None:
        """``write_out`` from SQLAlchemy's events, which run in its greenlet."""
        if self.pending:
            await_(self.write_out(tables))


# An INSERT of one row as SQLAlchemy compiles it for asyncpg: its VALUES group, then
# an optional RETURNING. A group holding parentheses is not recognised (not combined).
_INSERT = re.compile(r"(INSERT INTO .+? VALUES )(\([^()]*\))(.*)", re.DOTALL)
_PLACEHOLDER = re.compile(r"\$(\d+)")


def _renumbered(sql: str, offset: int) -> str:
    return _PLACEHOLDER.sub(lambda m: f"${int(m.group(1)) + offset}", sql)


def combined(due: Due, dialect: Dialect) -> tuple[str, Sequence[Any]] | None:
    """One statement writing all of ``due``: each statement a data-modifying CTE.

    An INSERT's rows become one multi-row VALUES (ids still given in row order); an
    UPDATE takes part only with one row, and a table only once: the CTEs of one
    statement run in no set order, and one row may not be changed twice in it.
    None when ``due`` does not fit, to be written statement by statement. The SQL is
    built once per shape (the statements, their keys and row counts): an update's
    writes come in few shapes, and building them costs regexes over every statement.
    """
    shape = tuple((s, tuple(rows[0]), len(rows)) for s, rows in due.items())
    sql = _combined_sql(shape, dialect)
    if sql is None:
        return None
    args: list[Any] = []
    for statement, rows in due.items():
        compiled = statement.compiled_for(dialect, rows[0])
        for row in rows:
            args.extend(compiled.row(row))
    return sql, args


Shape = tuple[tuple[Prepared, tuple[str, ...], int], ...]


@functools.lru_cache(maxsize=256)
def _combined_sql(shape: Shape, dialect: Dialect) -> str | None:
    """``combined``'s SQL for ``shape`` (its parameters in the order of the rows)."""
    parts: list[str] = []
    placed = 0  # parameters so far
    tables: set[str] = set()
    for statement, keys, count in shape:
        if statement.tables is None or not tables.isdisjoint(statement.tables):
            return None
        tables |= statement.tables
        compiled = statement.compiled_for(dialect, dict.fromkeys(keys))
        found = _INSERT.fullmatch(compiled.sql)
        if found is None and (count > 1 or not compiled.sql.startswith("UPDATE ")):
            return None
        if found is None:
            parts.append(_renumbered(compiled.sql, placed))
            placed += len(compiled.slots)
            continue
        head, group, tail = found.groups()
        groups = []
        for _ in range(count):
            groups.append(_renumbered(group, placed))
            placed += len(compiled.slots)
        parts.append(head + ", ".join(groups) + tail)
    ctes = ", ".join(f"w{n} AS ({part})" for n, part in enumerate(parts))
    return f"WITH {ctes} SELECT 1"
