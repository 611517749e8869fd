"""Prepared statements (storage.sqlite.prepared): the direct SQLite path matches SQLAlchemy's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import bindparam, event, func, insert, select, text, update
from sqlalchemy.dialects import sqlite

from bot.app import Database
from storage.models import Conversation, FollowUp, OutboxMessage
from storage.sqlite.prepared import Prepared, execute, execute_many, fetch
from tests.builders import T0

_NEW = Prepared(insert(Conversation))
_READ = Prepared(
    select(Conversation.chat_id, Conversation.data, Conversation.updated_at)
    .where(Conversation.channel == bindparam("channel"))
    .order_by(Conversation.chat_id)
)
_TOUCH = Prepared(
    update(Conversation)
    .where(Conversation.chat_id == bindparam("b_chat"))
    .values(state="touched", updated_at=bindparam("b_at"))
)


def _row(chat: str, n: int) -> dict[str, object]:
    return {
        "channel": "telegram",
        "chat_id": chat,
        "customer_id": None,
        "flow": "idle",
        "state": "idle",
        "data": {"n": n, "text": "olá"},
        "locale": None,
        "updated_at": T0 + timedelta(seconds=n),
    }


async def _round_trip(db: Database, direct: bool) -> tuple[list[tuple[object, ...]], int]:
    seen: list[str] = []

    @event.listens_for(db.engine.sync_engine, "before_cursor_execute")
    def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        seen.append(statement.split()[0])

    async with db.uow(small=direct) as uow:
        await execute_many(uow.session, _NEW, [_row("1", 1), _row("2", 2)])
        await execute(uow.session, _NEW, {**_row("3", 3), "data": None})
        touched = await execute(uow.session, _TOUCH, {"b_chat": "2", "b_at": T0})
        rows = await fetch(uow.session, _READ, {"channel": "telegram"})
        await uow.commit()
    event.remove(db.engine.sync_engine, "before_cursor_execute", record)
    through_sqlalchemy = [s for s in seen if s in ("INSERT", "UPDATE", "SELECT")]
    # None went through SQLAlchemy's cursor on PostgreSQL (asyncpg, in any unit of work)
    # and on SQLite's fast path in a small unit of work.
    on_postgres = db.engine.dialect.name == "postgresql"
    assert (through_sqlalchemy == []) == (on_postgres or (direct and db.fast_path))
    return rows, touched


@pytest.mark.parametrize("direct", [True, False])
async def test_rows_written_and_read_back_keep_their_types(db: Database, direct: bool) -> None:
    rows, touched = await _round_trip(db, direct)
    assert touched == 1
    assert rows == [
        ("1", {"n": 1, "text": "olá"}, T0 + timedelta(seconds=1)),
        ("2", {"n": 2, "text": "olá"}, T0),
        ("3", None, T0 + timedelta(seconds=3)),  # JSON null: the column is NOT NULL
    ]
    assert all(r[2].tzinfo is not None for r in rows)  # type: ignore[union-attr]
    async with db.uow() as uow:
        states = (await uow.session.scalars(select(Conversation.state))).all()
        stored = (
            await uow.session.execute(text("SELECT min(updated_at) FROM conversations"))
        ).scalar()
    assert sorted(states) == ["idle", "idle", "touched"]
    if db.engine.dialect.name == "sqlite":  # the text SQLAlchemy itself writes
        assert stored == "2026-03-10 15:00:00.000000"


def test_a_statement_that_cannot_run_prepared_is_refused_when_first_used() -> None:
    dialect = sqlite.dialect()
    expanding = Prepared(select(FollowUp.id).where(FollowUp.status.in_(("sent", "pending"))))
    with pytest.raises(ValueError, match="cannot be prepared"):
        expanding.for_sqlite(dialect, {})
    missing = Prepared(select(FollowUp.id).where(FollowUp.id == bindparam("fid")))
    with pytest.raises(ValueError, match="not given"):
        missing.for_sqlite(dialect, {})
    defaulted = Prepared(insert(OutboxMessage))  # "attempts" has a Python-side default
    with pytest.raises(ValueError, match="Python defaults"):
        defaulted.for_sqlite(dialect, {"channel": "telegram"})
    assert defaulted.for_sqlite(dialect, {"channel": "telegram", "attempts": 0}).sql.startswith(
        "INSERT"
    )
    counted = Prepared(select(func.count()).select_from(FollowUp))
    assert counted.for_sqlite(dialect, {}).sql.startswith("SELECT count")
