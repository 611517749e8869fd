"""The fast path on PostgreSQL: prepared statements straight on asyncpg, in its transaction.

Through SQLAlchemy a small statement costs about three times asyncpg's own work in
the bot's process (an execution context, a result object, greenlet switches:
0.44 against 0.13 ms of CPU each, measured), and an update runs about nine. Once
the transaction's ``BEGIN`` is sent (by SQLAlchemy's adapter, see ``Direct.ready``),
a ``Prepared`` statement runs on the same asyncpg connection, compiled once
with the asyncpg dialect's own SQL, bind casts and processors, so what is stored is
what SQLAlchemy would store; the COMMIT or ROLLBACK is still SQLAlchemy's. Errors
are raised as SQLAlchemy raises them (``DBAPIError`` subclasses, ``sqlstate`` kept).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import exc
from sqlalchemy.engine import Dialect

from storage.sqlite.compiled import Params, Prepared


class Direct:
    """A transaction's asyncpg connection, and SQLAlchemy's adapter around it."""

    def __init__(self, adapter: Any, dialect: Dialect) -> None:
        self.adapter = adapter  # SQLAlchemy's AsyncAdapt_asyncpg_connection
        self.driver = adapter.driver_connection  # asyncpg.Connection
        self.dialect = dialect

    async def ready(self) -> bool:
        """Open the transaction on the server if it is not yet; False in autocommit.

        SQLAlchemy's adapter sends ``BEGIN`` lazily, before its connection's first
        statement; sent here by the adapter itself, the transaction's first statement
        can run on asyncpg too, and the adapter's COMMIT or ROLLBACK still ends it.
        """
        adapter = self.adapter
        if adapter._transaction is None:
            async with adapter._execute_mutex:
                if adapter._transaction is None:
                    await adapter._start_transaction()  # nothing in autocommit
        return bool(self.driver.is_in_transaction())

    async def fetch(self, prepared: Prepared, params: Params) -> list[tuple[Any, ...]]:
        compiled = prepared.compiled_for(self.dialect, params)
        try:
            rows = await self.driver.fetch(compiled.sql, *compiled.row(params))
        except Exception as error:
            raise self._translated(error, compiled.sql, params) from error
        return compiled.convert(rows)

    async def execute(self, prepared: Prepared, params: Params) -> int:
        compiled = prepared.compiled_for(self.dialect, params)
        try:
            status = await self.driver.execute(compiled.sql, *compiled.row(params))
        except Exception as error:
            raise self._translated(error, compiled.sql, params) from error
        return rowcount(status)

    async def execute_many(self, prepared: Prepared, rows: Sequence[Params]) -> None:
        compiled = prepared.compiled_for(self.dialect, rows[0])
        try:
            await self.driver.executemany(compiled.sql, [compiled.row(r) for r in rows])
        except Exception as error:
            raise self._translated(error, compiled.sql, rows[0]) from error

    async def execute_sql(self, sql: str, args: Sequence[Any]) -> None:
        """Run SQL already in asyncpg's form (``storage.sqlite.buffers.combined``)."""
        try:
            await self.driver.execute(sql, *args)
        except Exception as error:
            raise self._translated(error, sql, {}) from error

    def _translated(self, error: Exception, sql: str, params: Params) -> Exception:
        """``error`` as SQLAlchemy would have raised it for this statement."""
        try:
            self.adapter._handle_exception(error)  # raises the DB-API error for it
        except Exception as dbapi_error:  # noqa: BLE001 - it is what we translate
            base = self.dialect.loaded_dbapi.Error
            if not isinstance(dbapi_error, base):
                return dbapi_error
            return exc.DBAPIError.instance(sql, dict(params), dbapi_error, base)
        return error  # pragma: no cover - _handle_exception always raises


def rowcount(status: str) -> int:
    """The rows a command touched, from asyncpg's status ("INSERT 0 1", "UPDATE 3")."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else -1
