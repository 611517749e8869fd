"""Searching the transcript for the web admin: by customer, phone, order, dates, flow, words.

People (a customer's store id or name, a phone, an order id) become customer ids first,
each through its own index; the messages are then read by ``ix_messages_customer_at``.
Words use the word index of migration 0012 on both databases, with one meaning: every
word of 3 or more characters appears in the text, case-insensitively, anywhere (shorter
words are left out: a trigram index cannot serve them). SQLite asks its FTS5 trigram
table; PostgreSQL ``ILIKE`` served by the GIN trigram index.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Customer, Message, Order

MIN_WORD = 3
PER_PAGE = 50
NAME_MATCHES = 200  # customers a name may stand for: more means "be more precise"


def words_of(typed: str) -> tuple[str, ...]:
    """The searchable words of what was typed (3+ characters, at most 8 of them)."""
    return tuple(w for w in typed.split() if len(w) >= MIN_WORD)[:8]


@dataclass(frozen=True)
class MessageSearch:
    """Which messages. ``customers``: None, anyone; else only those customers' lines."""

    customers: tuple[int, ...] | None = None
    since: datetime | None = None
    until: datetime | None = None
    flow: str | None = None
    words: tuple[str, ...] = field(default=())

    def where(self, dialect: str) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.customers is not None:
            found.append(Message.customer_id.in_(self.customers))
        if self.since is not None:
            found.append(Message.at >= self.since)
        if self.until is not None:
            found.append(Message.at < self.until)
        if self.flow:
            found.append(Message.flow == self.flow)
        if self.words:
            found.append(_words(self.words, dialect))
        return found


def _words(words: tuple[str, ...], dialect: str) -> ColumnElement[bool]:
    if dialect == "sqlite":
        # An FTS5 string per word ("..." with quotes doubled): every word, as a substring.
        query = " AND ".join('"' + w.replace('"', '""') + '"' for w in words)
        hits: Any = (
            select(literal_column("rowid"))
            .select_from(text("messages_fts"))
            .where(text("messages_fts MATCH :fts_query").bindparams(fts_query=query))
        )
        return Message.id.in_(hits)
    clauses = [Message.text.ilike("%" + _escaped(w) + "%", escape="\\") for w in words]
    return and_(*clauses)


def _escaped(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def customers_matching(
    session: AsyncSession, *, customer: str = "", phone: str | None = None, order: str = ""
) -> tuple[int, ...] | None:
    """The customers the people fields name (all of them must hold); None: none given."""
    found: set[int] | None = None
    if customer:
        found = _meet(found, await _by_customer(session, customer))
    if phone is not None:
        ids = await session.scalars(select(Customer.id).where(Customer.phone == phone))
        found = _meet(found, set(ids))
    if order:
        ids = await session.scalars(select(Order.customer_id).where(Order.external_id == order))
        found = _meet(found, set(ids))
    return None if found is None else tuple(sorted(found))


def _meet(found: set[int] | None, more: set[int]) -> set[int]:
    return more if found is None else found & more


async def _by_customer(session: AsyncSession, typed: str) -> set[int]:
    """The store's customer id exactly, or ``#N`` (our id), or a part of the name."""
    exact = await session.scalars(select(Customer.id).where(Customer.external_id == typed))
    ids = set(exact)
    if typed.startswith("#") and typed[1:].isascii() and typed[1:].isdigit():
        ids.add(int(typed[1:]))
    if not ids and len(typed) >= MIN_WORD:
        # A scan of the customers (not of the messages), bounded by NAME_MATCHES.
        named = select(Customer.id).where(Customer.name.ilike("%" + _escaped(typed) + "%", "\\"))
        ids = set(await session.scalars(named.limit(NAME_MATCHES)))
    return ids


@dataclass(frozen=True)
class Hit:
    id: int
    conversation_id: int | None
    customer_id: int | None
    customer: str | None
    name: str | None
    direction: str
    flow: str | None
    text: str | None
    at: datetime


@dataclass(frozen=True)
class Hits:
    hits: list[Hit]
    page: int
    more: bool  # a next page exists


def _hits_query(search: MessageSearch, dialect: str) -> Any:
    return (
        select(
            Message.id,
            Message.conversation_id,
            Message.customer_id,
            Customer.external_id,
            Customer.name,
            Message.direction,
            Message.flow,
            Message.text,
            Message.at,
        )
        .outerjoin(Customer, Message.customer_id == Customer.id)
        .where(*search.where(dialect))
        .order_by(Message.at.desc(), Message.id.desc())
    )


async def search_messages(session: AsyncSession, search: MessageSearch, page: int = 1) -> Hits:
    """One page of matching messages, the newest first."""
    if search.customers == ():
        return Hits([], page, False)
    dialect = session.get_bind().dialect.name
    query = _hits_query(search, dialect).offset((page - 1) * PER_PAGE).limit(PER_PAGE + 1)
    rows = [Hit(*row) for row in await session.execute(query)]
    return Hits(rows[:PER_PAGE], page, len(rows) > PER_PAGE)


def search_clauses(session: AsyncSession, search: MessageSearch) -> list[ColumnElement[bool]]:
    """The search's conditions for ``stream_messages`` (an export of the same rows)."""
    if search.customers == ():
        return [Message.id.is_(None)]  # nobody matched: nothing to export
    return search.where(session.get_bind().dialect.name)


__all__ = [
    "MIN_WORD",
    "PER_PAGE",
    "Hit",
    "Hits",
    "MessageSearch",
    "customers_matching",
    "search_clauses",
    "search_messages",
    "words_of",
]
