"""Statements of an update's hot path, compiled once and run straight on SQLite.

An update runs a handful of small statements by key. Through SQLAlchemy each one
costs far more than SQLite's own work: an execution context, parameter processing,
a result object, a greenlet switch (together about half of the engine's time on
SQLite, measured with py-spy on ``benchmarks/engine.py``). A ``Prepared`` statement
is compiled from the same Core statement once per dialect, with its types' own
bind and result processors, so the SQL and the stored formats stay SQLAlchemy's.
On SQLite, inside ``inline()`` with the transaction open (see
``storage.sqlite.driver``), it runs on the connection's ``sqlite3`` connection
directly; anywhere else (PostgreSQL, outside a transaction) it goes through
SQLAlchemy as any statement does.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Executable
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.compiler import SQLCompiler

from storage.sqlite.driver import OneTripConnection, inline_enabled

Params = Mapping[str, Any]
Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _SQLite:
    """One statement compiled for SQLite: positional SQL and how to fill it."""

    sql: str
    # Per positional parameter: the caller's key (None: a constant), the constant,
    # and the type's bind processor.
    slots: tuple[tuple[str | None, Any, Processor], ...]
    results: tuple[Processor, ...]  # per result column

    def row(self, params: Params) -> tuple[Any, ...]:
        out = []
        for key, constant, process in self.slots:
            value = constant if key is None else params[key]
            # None goes through the processor too: JSON writes it as 'null', as
            # SQLAlchemy does, not as SQL NULL.
            out.append(process(value) if process is not None else value)
        return tuple(out)

    def convert(self, rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        procs = self.results
        if not any(procs):
            return [tuple(r) for r in rows]
        return [
            tuple(
                p(v) if p is not None and v is not None else v
                for p, v in zip(procs, r, strict=True)
            )
            for r in rows
        ]


def _compile(statement: Executable, dialect: Dialect, keys: Sequence[str]) -> _SQLite:
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))  # type: ignore[attr-defined]
    assert isinstance(compiled, SQLCompiler)
    if compiled.insert_prefetch or compiled.update_prefetch:
        # A Python-side default would be computed by SQLAlchemy's execution; here
        # the caller must give every column.
        raise ValueError(f"columns with Python defaults left out: {compiled.string}")
    slots = []
    for name in compiled.positiontup or ():
        bind = compiled.binds[name]
        if bind.expanding or bind.callable is not None:
            raise ValueError(f"parameter {name!r} cannot be prepared: {compiled.string}")
        key = name if name in keys else None
        if key is None and bind.required:
            raise ValueError(f"parameter {name!r} not given: {compiled.string}")
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        slots.append((key, bind.value, process))
    columns = getattr(statement, "selected_columns", ())
    results = tuple(c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns)
    return _SQLite(compiled.string, tuple(slots), results)


class Prepared:
    """A Core statement run with plain parameter dicts, compiled once per key set.

    ``per_dialect`` gives a statement that differs by database (e.g. an insert
    ignoring duplicates); ``statement`` serves every other one.
    """

    def __init__(
        self,
        statement: Executable | None = None,
        *,
        per_dialect: Mapping[str, Executable] | None = None,
    ) -> None:
        self._statements = dict(per_dialect or {})
        if statement is not None:
            self._statements.setdefault("sqlite", statement)
            self._default = statement
        else:
            self._default = self._statements["sqlite"]
        self._sqlite: dict[tuple[str, ...], _SQLite] = {}

    def statement(self, dialect: Dialect) -> Executable:
        return self._statements.get(dialect.name, self._default)

    def for_sqlite(self, dialect: Dialect, params: Params) -> _SQLite:
        keys = tuple(params)
        found = self._sqlite.get(keys)
        if found is None:
            found = self._sqlite[keys] = _compile(self._statements["sqlite"], dialect, keys)
        return found


_CONNECTION = "postsale_prepared_connection"


async def _sqlite_of(conn: AsyncConnection) -> sqlite3.Connection | None:
    if conn.dialect.name != "sqlite":
        return None
    driver = (await conn.get_raw_connection()).driver_connection
    if not isinstance(driver, OneTripConnection):
        return None
    return driver._conn  # noqa: SLF001 (see storage.sqlite.driver)


async def _direct(session: AsyncSession) -> tuple[sqlite3.Connection, Dialect] | None:
    """The ``sqlite3`` connection when a statement may run on it right now, else None.

    Looked up once per transaction: the lookup costs two greenlet switches, more
    than the statement. The transaction keeps its connection until it ends.
    """
    transaction = session.sync_session.get_transaction()
    cached = session.info.get(_CONNECTION)
    if cached is not None and cached[0] is transaction and transaction is not None:
        sqlite: sqlite3.Connection | None = cached[1]
        dialect: Dialect = cached[2]
    else:
        conn = await session.connection()
        sqlite, dialect = await _sqlite_of(conn), conn.dialect
        session.info[_CONNECTION] = (session.sync_session.get_transaction(), sqlite, dialect)
    if sqlite is None or not inline_enabled() or not sqlite.in_transaction:
        return None
    return sqlite, dialect


async def fetch(session: AsyncSession, prepared: Prepared, params: Params) -> list[tuple[Any, ...]]:
    """The rows of a query."""
    direct = await _direct(session)
    if direct is None:
        conn = await session.connection()
        result = await conn.execute(prepared.statement(conn.dialect), dict(params))
        return [tuple(r) for r in result]
    sqlite, dialect = direct
    compiled = prepared.for_sqlite(dialect, params)
    return compiled.convert(sqlite.execute(compiled.sql, compiled.row(params)).fetchall())


async def execute(session: AsyncSession, prepared: Prepared, params: Params) -> int:
    """Run a write with one set of parameters; returns the rows it touched."""
    direct = await _direct(session)
    if direct is None:
        conn = await session.connection()
        return int((await conn.execute(prepared.statement(conn.dialect), dict(params))).rowcount)
    sqlite, dialect = direct
    compiled = prepared.for_sqlite(dialect, params)
    return int(sqlite.execute(compiled.sql, compiled.row(params)).rowcount)


async def execute_many(session: AsyncSession, prepared: Prepared, rows: Sequence[Params]) -> None:
    """Run a write once per set of parameters (all with the same keys)."""
    if not rows:
        return
    direct = await _direct(session)
    if direct is None:
        conn = await session.connection()
        await conn.execute(prepared.statement(conn.dialect), [dict(r) for r in rows])
        return
    sqlite, dialect = direct
    compiled = prepared.for_sqlite(dialect, rows[0])
    sqlite.executemany(compiled.sql, [compiled.row(r) for r in rows])
