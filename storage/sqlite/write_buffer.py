"""Rows a transaction writes and does not read back, written together before it commits.

An update writes its transcript lines, its outbox rows and its conversation's new
state; nothing in the same transaction reads them again, except operator commands
and the data-rights effects, which call ``flush_writes`` first. Under group commit a
batch of updates then writes each kind of row in one executemany instead of one
statement per row. ``UnitOfWork.commit`` flushes whatever is left, so a buffered row
is committed with the transaction that made it, or rolled back with it.

A session without a buffer (``start_buffer`` not called) writes each row at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.sqlite.prepared import Prepared, execute, execute_many

_KEY = "postsale_write_buffer"

Rows = list[dict[str, Any]]


@dataclass
class WriteBuffer:
    """Pending executions, grouped by statement, in the order they were first used."""

    pending: dict[Prepared, Rows] = field(default_factory=dict)

    async def flush(self, session: AsyncSession) -> None:
        if not self.pending:
            return
        pending, self.pending = self.pending, {}
        for statement, rows in pending.items():
            await execute_many(session, statement, rows)


def start_buffer(session: AsyncSession) -> WriteBuffer:
    """Buffer this session's ``write`` calls until ``flush_writes`` (or the commit)."""
    buffer: WriteBuffer = session.info.setdefault(_KEY, WriteBuffer())
    return buffer


async def write(session: AsyncSession, statement: Prepared, row: dict[str, Any]) -> None:
    """Execute ``statement`` with ``row`` now, or later with others if buffering.

    Every row of one statement has the same keys (they run as one executemany).
    """
    buffer: WriteBuffer | None = session.info.get(_KEY)
    if buffer is not None:
        buffer.pending.setdefault(statement, []).append(row)
        return
    await execute(session, statement, row)


async def flush_writes(session: AsyncSession) -> None:
    """Write what is buffered: before anything in the transaction reads those rows."""
    buffer: WriteBuffer | None = session.info.get(_KEY)
    if buffer is not None:
        await buffer.flush(session)


def drop_writes(session: AsyncSession) -> None:
    """Forget what is buffered (the transaction is rolled back)."""
    session.info.pop(_KEY, None)
