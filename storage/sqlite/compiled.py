"""Statements of an update's hot path, compiled once for SQLite.

An update runs a handful of small statements by key. Through SQLAlchemy each one
costs far more than SQLite's own work: an execution context, parameter processing,
a result object, a greenlet switch. A ``Prepared`` statement is compiled from the
same Core statement once per dialect, with its types' own bind and result
processors, so the SQL and the stored formats stay SQLAlchemy's. It also knows the
tables it touches, so that a buffered write is flushed only before the statements
that could see it (``storage.sqlite.transaction``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Executable
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import visitors
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import TableClause

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


def _tables(statements: Iterable[Executable]) -> frozenset[str] | None:
    names: set[str] = set()
    for statement in statements:
        for element in visitors.iterate(statement):  # type: ignore[arg-type]
            if isinstance(element, TableClause):
                names.add(element.name)
            table = getattr(element, "table", None)
            if isinstance(table, TableClause):
                names.add(table.name)
    return frozenset(names) or None


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
        self._other: dict[tuple[str, tuple[str, ...]], _SQLite] = {}
        # The tables it reads or writes; None when they could not all be named.
        self.tables = _tables(self._statements.values())

    def statement(self, dialect: Dialect) -> Executable:
        return self._statements.get(dialect.name, self._default)

    def for_sqlite(self, dialect: Dialect, params: Params) -> _SQLite:
        keys = tuple(params)
        found = self._sqlite.get(keys)
        if found is None:
            found = self._sqlite[keys] = _compile(self._statements["sqlite"], dialect, keys)
        return found

    def compiled_for(self, dialect: Dialect, params: Params) -> _SQLite:
        """Compiled for another positional dialect (PostgreSQL's asyncpg: ``$1``)."""
        key = (dialect.name, tuple(params))
        found = self._other.get(key)
        if found is None:
            found = self._other[key] = _compile(self.statement(dialect), dialect, key[1])
        return found
