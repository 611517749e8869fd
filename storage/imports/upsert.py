"""Bulk upserts that change a row only when a value really differs (SQLite and PostgreSQL).

``INSERT ... ON CONFLICT (key) DO UPDATE SET ... WHERE <some column differs>``: a row
imported again unchanged is not written at all, so its ``updated_at`` stays put and the
follow-up planner, which polls ``orders.updated_at``, is not woken for nothing.
``RETURNING key`` then names exactly the rows inserted or updated.

Bulk paths avoid per-value work in Python where they can: ``raw_table`` has untyped
columns (no bind processing; times are passed as ``db_time`` makes them), and
``among`` sends a whole list of keys as one parameter, so the statement text stays the
same from batch to batch and both databases reuse its plan.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    Table,
    TableClause,
    and_,
    any_,
    bindparam,
    case,
    column,
    false,
    func,
    literal_column,
    or_,
    select,
    text,
    true,
)
from sqlalchemy import table as table_clause
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import SHRINK_CACHE
from storage.models import Base


def table(name: str) -> Table:
    """The Core table ``name`` (Core statements skip the ORM's per-row bookkeeping)."""
    return Base.metadata.tables[name]


@cache
def raw_table(name: str) -> TableClause:
    """Table ``name`` with untyped columns: values go to the driver as given (see ``db_time``)."""
    return table_clause(name, *(column(c.name) for c in table(name).c))


def _is_pg(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _sqlite_time(moment: datetime | None) -> str | None:
    # The text ``UTCDateTime`` stores in SQLite: naive UTC, always with microseconds.
    if moment is None:
        return None
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.isoformat(" ", "microseconds")[:26]  # without the "+00:00"


def _pg_time(moment: datetime | None) -> datetime | None:
    return moment


def db_time(session: AsyncSession) -> Callable[[datetime | None], Any]:
    """How an aware datetime is passed to a ``raw_table`` column on this backend."""
    return _pg_time if _is_pg(session) else _sqlite_time


def among(session: AsyncSession, target: ColumnElement[Any], values: Iterable[str]) -> Any:
    """``target IN values`` with the values as one parameter (a JSON text or an array)."""
    keys = list(values)
    if _is_pg(session):
        array = bindparam("keys", keys, type_=postgresql.ARRAY(String()))
        return target == any_(array)
    each = func.json_each(bindparam("keys", json.dumps(keys)))
    return target.in_(select(literal_column("value")).select_from(each))


def _insert(session: AsyncSession, target: TableClause) -> postgresql.Insert | sqlite.Insert:
    if _is_pg(session):
        return postgresql.insert(target)
    return sqlite.insert(target)


async def upsert(
    session: AsyncSession,
    target: TableClause,
    rows: Sequence[Mapping[str, Any]],
    *,
    key: Sequence[str],
    update: Sequence[str],
    keep_when_empty: Sequence[str] = (),
    only_if: ColumnElement[bool] | None = None,
    touch: Sequence[str] = (),
    returning: str | None = None,
    guarded: tuple[Sequence[str], ColumnElement[bool]] | None = None,
) -> set[Any]:
    """Insert ``rows``; on a ``key`` conflict update the ``update`` columns that differ.

    Columns in ``keep_when_empty`` keep their stored value when the new one is NULL
    (an empty CSV field does not erase what is known). ``only_if`` further limits which
    existing rows may change; ``touch`` columns (``updated_at``) take the new value only
    when a row changes. ``guarded`` (columns, condition): those ``update`` columns change
    only where the stored row meets the condition (an operator's theme stays). Returns
    the ``returning`` column of the rows inserted or updated (an empty set without it).
    """
    if not rows:
        return set()
    stmt = _insert(session, target)
    new = stmt.excluded
    values: dict[str, Any] = {}
    differs: list[ColumnElement[bool]] = []
    guarded_names, guard = guarded if guarded is not None else ((), true())
    for name in update:
        old = target.c[name]
        if name in guarded_names:
            values[name] = case((guard, new[name]), else_=old)
            differs.append(and_(guard, new[name].is_distinct_from(old)))
        elif name in keep_when_empty:
            values[name] = func.coalesce(new[name], old)
            differs.append(and_(new[name].is_not(None), new[name].is_distinct_from(old)))
        else:
            values[name] = new[name]
            differs.append(new[name].is_distinct_from(old))
    values.update({name: new[name] for name in touch})
    where = or_(false(), *differs)
    if only_if is not None:
        where = and_(only_if, where)
    if values:
        upserted = stmt.on_conflict_do_update(index_elements=list(key), set_=values, where=where)
    else:
        upserted = stmt.on_conflict_do_nothing(index_elements=list(key))
    if returning is None:
        await session.execute(upserted, list(rows))
        return set()
    result = await session.execute(upserted.returning(target.c[returning]), list(rows))
    return set(result.scalars())


async def insert_new(
    session: AsyncSession,
    target: TableClause,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    key: Sequence[str],
    update: Sequence[str],
    keep_when_empty: Sequence[str] = (),
    only_if: ColumnElement[bool] | None = None,
    touch: Sequence[str] = (),
) -> None:
    """Insert ``rows`` (values of ``columns``) just looked up by ``key`` here and absent.

    On SQLite a plain INSERT, which costs about half an upsert (no conflict handling),
    sent as the driver's own ``executemany`` of tuples (no per-row work in SQLAlchemy):
    writers take the database in turn (``BEGIN IMMEDIATE``; a deferred transaction that
    read before another writer committed cannot write at all), so nobody can have added
    them since. On PostgreSQL another writer may have: an ``upsert`` with the same rules.
    """
    if not rows:
        return
    if _is_pg(session):
        await upsert(
            session,
            target,
            [dict(zip(columns, row, strict=True)) for row in rows],
            key=key,
            update=update,
            keep_when_empty=keep_when_empty,
            only_if=only_if,
            touch=touch,
        )
        return
    connection = await session.connection()
    await connection.exec_driver_sql(_insert_sql(target.name, tuple(columns)), list(rows))


@cache
def _insert_sql(name: str, columns: tuple[str, ...]) -> str:
    marks = ", ".join("?" * len(columns))
    return f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({marks})"


BULK_CACHE_KIB = 131_072
"""SQLite page cache of a connection while it does a bulk write (the default is 1 MiB)."""


async def roomy_cache(session: AsyncSession) -> dict[Any, Any] | None:
    """On SQLite, let this connection cache ``BULK_CACHE_KIB`` of pages (a no-op elsewhere).

    Bulk writes touch index pages all over the file; with the default 1 MiB most of them
    are read again for every batch. The cache grows only as pages are used, and stays
    with the pooled connection until ``shrink_caches`` is given what this returns (the
    connection's info), so that a long-running bot does not keep 128 MiB per connection
    after an import.
    """
    if _is_pg(session):
        return None
    await session.execute(text(f"PRAGMA cache_size = -{BULK_CACHE_KIB}"))
    return (await session.connection()).info


def shrink_caches(infos: Iterable[dict[Any, Any] | None]) -> None:
    """The connections behind ``infos`` go back to the normal cache at their next checkout."""
    for info in infos:
        if info is not None:
            info[SHRINK_CACHE] = True


async def ids_by_key(
    session: AsyncSession, target: Table, key: str, values: Iterable[Any], *, column: str = "id"
) -> dict[Any, Any]:
    """``{key value: column value}`` for the rows whose ``key`` is among ``values``."""
    wanted = list(values)
    if not wanted:
        return {}
    query = select(target.c[key], target.c[column]).where(among(session, target.c[key], wanted))
    return {k: v for k, v in (await session.execute(query)).all()}
