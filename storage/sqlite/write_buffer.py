"""Rows a transaction writes and does not read back, written together when needed.

An update writes its transcript lines, its outbox rows and its conversation's new
state. In a unit of work of small statements on SQLite (``UnitOfWork(small=True)``)
``write`` only queues them; they are written, each statement's rows in one
executemany, just before a statement that could see them, or before the COMMIT,
and forgotten on a ROLLBACK (``storage.sqlite.transaction``). Anywhere else each row
is written at once.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storage.sqlite.compiled import Params, Prepared
from storage.sqlite.prepared import execute
from storage.sqlite.transaction import fast_path


async def write(session: AsyncSession, statement: Prepared, row: Params) -> None:
    """Execute ``statement`` with ``row`` now, or later with others if buffering.

    Every row of one statement has the same keys (they run as one executemany).
    """
    buffer = (await fast_path(session)).buffer
    if buffer is not None:
        buffer.add(statement, row)
        return
    await execute(session, statement, row)
