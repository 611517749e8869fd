"""Importing orders (and their customers): validated row by row, upserted in batches.

Rows are read lazily and written ``batch_size`` at a time, each batch in its own
transaction, so memory stays flat whatever the file size and the bot keeps running
beside a long import. Idempotent on ``order_id``: a row equal to what is stored counts
as unchanged and is not written; a row whose ``updated_at`` (the store's version of the
order) is not newer than the stored one is stale and changes nothing, and a missing
``delivered_at`` never clears a known delivery. Customers are upserted on
``customer_id``; an empty field never erases a known value, and an anonymised customer
is never filled in again.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import cached_property, lru_cache
from itertools import islice
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.imports.csv_rows import check_shape
from storage.imports.rows import (
    ImportReport,
    PhoneNormaliser,
    Pipeline,
    Row,
    RowError,
    parse_currency,
    parse_email,
    parse_locale,
    parse_money,
    parse_time,
    parse_zone,
    required,
    stripped,
)
from storage.imports.upsert import (
    among,
    db_time,
    ids_by_key,
    insert_new,
    raw_table,
    roomy_cache,
    table,
    upsert,
)

ORDER_COLUMNS = (
    "order_id",
    "customer_id",
    "customer_name",
    "phone",
    "email",
    "locale",
    "timezone",
    "total",
    "currency",
    "purchased_at",
    "delivered_at",
)
REQUIRED_ORDER_COLUMNS = ("order_id", "customer_id", "purchased_at")
BATCH_SIZE = 25_000
"""Orders a transaction writes. Large batches matter on SQLite: rows land at random
places in the indexes (purchase time, order id), and each transaction writes every index
page it touched, so more rows a page per transaction means fewer pages written per row
(1,000,000 orders: 46 s of CPU at 25,000 a batch, 57 s at 5,000)."""

_CUSTOMER_FIELDS = ("name", "phone", "email", "locale", "timezone")
_ORDER_FIELDS = ("customer_id", "total_cents", "currency", "purchased_at", "delivered_at")
_CUSTOMER_COLUMNS = ("id", "anonymised_at", *_CUSTOMER_FIELDS)
_CUSTOMER_INSERT = ("external_id", *_CUSTOMER_FIELDS, "created_at")
_ORDER_STORED = (*_ORDER_FIELDS, "source_updated_at")
_KEPT_WHEN_EMPTY = (_ORDER_STORED.index("delivered_at"), _ORDER_STORED.index("source_updated_at"))
_ORDER_INSERT = ("external_id", *_ORDER_STORED, "created_at", "updated_at")
_KEY = ("external_id",)
_IDS = ("order_id", "customer_id")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


@dataclass(frozen=True)
class OrderOptions:
    """How order rows are read: the zone of times without an offset, and phone rules."""

    default_tz: tzinfo
    default_locale: str = "pt-BR"
    normalise_phone: PhoneNormaliser | None = None

    @cached_property
    def phones(self) -> PhoneNormaliser:
        """The normaliser, remembering recent answers (a customer's rows repeat the phone)."""
        return lru_cache(maxsize=65536)(self.normalise_phone or _e164_only)


def _e164_only(raw: str, locale: str) -> str | None:
    return raw if _E164.match(raw) else None


def parse_order(
    row: Mapping[str, Any], options: OrderOptions, warn: Callable[[str], None], now: datetime
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(customer fields, order fields) of one row; ``RowError`` when it cannot be imported.

    The rule: a field that would make follow-ups or KPIs wrong rejects the row (an id, a
    time that is unreadable, before 2000, in the future or a delivery before its
    purchase, a total, a currency, a locale, a time zone); a contact detail whose loss
    still leaves a usable order (a phone, an e-mail) is dropped with a warning.
    """
    check_shape(row)
    notes: list[str] = []
    f = stripped(row, notes.append, ids=_IDS)
    get = f.get
    order_id = required(f, "order_id", 128)
    customer_id = required(f, "customer_id", 128)
    tz = options.default_tz
    purchased_at = parse_time(required(f, "purchased_at"), "purchased_at", tz, now=now)
    delivered = get("delivered_at")
    delivered_at = parse_time(delivered, "delivered_at", tz, now=now) if delivered else None
    if delivered_at is not None and delivered_at < purchased_at:
        raise RowError(f"delivered_at {delivered!r} is before purchased_at")
    version = get("updated_at")
    total, currency = get("total"), get("currency")
    locale, zone_name = get("locale"), get("timezone")
    name, email = get("customer_name") or None, get("email") or None
    if name is not None and len(name) > 200:
        raise RowError("customer_name longer than 200 characters")
    if email is not None and len(email) > 254:
        raise RowError("email longer than 254 characters")
    customer = {
        "external_id": customer_id,
        "name": name,
        "phone": None,
        "email": email,
        "locale": parse_locale(locale) if locale else None,
        "timezone": parse_zone(zone_name) if zone_name else None,
    }
    order = {
        "external_id": order_id,
        "customer": customer_id,
        "total_cents": parse_money(total, "total") if total else None,
        "currency": parse_currency(currency) if currency else None,
        "purchased_at": purchased_at,
        "delivered_at": delivered_at,
        "version": parse_time(version, "updated_at", tz, now=now) if version else None,
    }
    # Checked last: a warning is only worth giving for a row that is kept.
    for note in notes:
        warn(note)
    raw_phone = get("phone")
    if raw_phone:
        # The store's country, not the customer's language: a Brazilian shop's customer
        # who reads Spanish still has a Brazilian number.
        customer["phone"] = options.phones(raw_phone, options.default_locale)
        if customer["phone"] is None:
            warn(f"phone {raw_phone!r} is not a valid number; imported without it")
    if email is not None and parse_email(email) is None:
        warn(f"email {email!r} is not an e-mail address; imported without it")
        customer["email"] = None
    return customer, order


class _Batch:
    """Rows (customer and order) waiting to be written together, one per order id."""

    def __init__(self) -> None:
        self.orders: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}

    def add(self, customer: dict[str, Any], order: dict[str, Any]) -> None:
        self.orders[order["external_id"]] = (customer, order)


def _merged_customers(rows: Iterable[tuple[dict[str, Any], dict[str, Any]]]) -> dict[str, Any]:
    """The customers of ``rows`` merged by id: a later row's non-empty values win, as they
    would in the database."""
    customers: dict[str, dict[str, Any]] = {}
    for customer, _ in rows:
        known = customers.get(customer["external_id"])
        if known is None:
            customers[customer["external_id"]] = dict(customer)
        else:
            known.update({k: v for k, v in customer.items() if v is not None})
    return customers


def _customer_changes(new: Mapping[str, Any], old: tuple[Any, ...]) -> bool:
    """Whether upserting customer ``new`` over the stored ``old`` (see ``_CUSTOMER_COLUMNS``)
    would change it: never for an anonymised customer; an empty new value keeps the old one.
    """
    if old[1] is not None:
        return False
    for name, stored in zip(_CUSTOMER_FIELDS, old[2:], strict=True):
        value = new[name]
        if value is not None and value != stored:
            return True
    return False


async def _stored(
    session: AsyncSession, name: str, keys: Iterable[str], columns: tuple[str, ...]
) -> dict[str, tuple[Any, ...]]:
    """``{external_id: (columns...)}`` of the rows of table ``name`` whose key is in ``keys``.

    Read untyped: times come back as stored (``db_time``), so they compare as they were sent.
    """
    target = raw_table(name)
    wanted = [target.c[column] for column in ("external_id", *columns)]
    query = select(*wanted).where(among(session, target.c.external_id, keys))
    return {row[0]: tuple(row[1:]) for row in await session.execute(query)}


@dataclass
class _Written:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0


def _is_stale(version: Any, old: tuple[Any, ...] | None) -> bool:
    """Whether a row carrying the store's ``version`` is older than (or as old as) ``old``."""
    return version is not None and old is not None and old[-1] is not None and version <= old[-1]


async def _write(session: AsyncSession, batch: _Batch, now: datetime) -> _Written:
    """Upsert one batch: what happened to its orders.

    The stored rows are read first so that only new or changed rows are sent: new ones
    with a plain INSERT where that is safe (``insert_new``), changed ones by an upsert
    whose own ``WHERE <a column differs>`` still guards against a concurrent writer. A
    row older than the stored order (``_is_stale``) changes neither it nor its customer.
    """
    stamp = db_time(session)
    created = stamp(now)
    stored = await _stored(session, "orders", batch.orders, _ORDER_STORED)
    written = _Written()
    live = []
    for key, (customer, order) in batch.orders.items():
        if _is_stale(stamp(order["version"]), stored.get(key)):
            written.stale += 1
        else:
            live.append((customer, order))
    ids = await _write_customers(session, _merged_customers(live), created)
    added: list[tuple[Any, ...]] = []
    updated: list[dict[str, Any]] = []
    for _, o in live:
        key = o["external_id"]
        old = stored.get(key)
        values = [
            ids[o["customer"]],
            o["total_cents"],
            o["currency"],
            stamp(o["purchased_at"]),
            stamp(o["delivered_at"]),
            stamp(o["version"]),
        ]
        if old is None:
            added.append((key, *values, created, created))
            continue
        for index in _KEPT_WHEN_EMPTY:  # a row that lacks them keeps what is known
            if values[index] is None:
                values[index] = old[index]
        if tuple(values) != old:
            row = dict(zip(_ORDER_STORED, values, strict=True))
            updated.append(
                {**row, "external_id": key, "created_at": created, "updated_at": created}
            )
    orders = raw_table("orders")
    touch = ("updated_at",)
    keep = ("delivered_at", "source_updated_at")
    update = _ORDER_STORED
    await insert_new(
        session,
        orders,
        _ORDER_INSERT,
        added,
        key=_KEY,
        update=update,
        keep_when_empty=keep,
        touch=touch,
    )
    await upsert(
        session, orders, updated, key=_KEY, update=update, keep_when_empty=keep, touch=touch
    )
    written.added, written.updated = len(added), len(updated)
    written.unchanged = len(live) - written.added - written.updated
    return written


async def _write_customers(
    session: AsyncSession, customers: dict[str, dict[str, Any]], created: Any
) -> dict[str, int]:
    """Upsert ``customers``; ``{external_id: id}`` of each."""
    known = await _stored(session, "customers", customers, _CUSTOMER_COLUMNS)
    fresh: list[tuple[Any, ...]] = []
    changed: list[dict[str, Any]] = []
    for key, c in customers.items():
        old = known.get(key)
        if old is None:
            fresh.append((key, *[c[name] for name in _CUSTOMER_FIELDS], created))
        elif _customer_changes(c, old):
            changed.append({**c, "created_at": created})
    table_ = raw_table("customers")
    only_if = table_.c.anonymised_at.is_(None)
    keep = _CUSTOMER_FIELDS
    await insert_new(
        session,
        table_,
        _CUSTOMER_INSERT,
        fresh,
        key=_KEY,
        update=keep,
        keep_when_empty=keep,
        only_if=only_if,
    )
    await upsert(
        session, table_, changed, key=_KEY, update=keep, keep_when_empty=keep, only_if=only_if
    )
    ids = {key: row[0] for key, row in known.items()}
    if fresh:
        new_keys = [row[0] for row in fresh]
        ids.update(await ids_by_key(session, table("customers"), "external_id", new_keys))
    return ids


Checked = tuple[int, str | tuple[dict[str, Any], dict[str, Any], list[str]]]
"""A row read: (line, why it is rejected) or (line, (customer, order, warnings))."""


def check_rows(rows: Iterable[Row], options: OrderOptions, now: datetime) -> Iterator[Checked]:
    """``parse_order`` over ``rows``, lazily: each row's line with its verdict."""
    for line, row in rows:
        notes: list[str] = []
        try:
            customer, order = parse_order(row, options, notes.append, now)
        except RowError as exc:
            yield line, str(exc)
            continue
        yield line, (customer, order, notes)


async def _chunks(checked: Iterator[Checked], size: int = 200) -> AsyncIterator[list[Checked]]:
    while chunk := list(islice(checked, size)):
        yield chunk


async def import_orders(
    sessions: async_sessionmaker[AsyncSession],
    rows: Iterable[Row],
    options: OrderOptions,
    *,
    now: datetime,
    batch_size: int = BATCH_SIZE,
    replaced: Mapping[int, int] | None = None,
) -> ImportReport:
    """Upsert customers and orders from ``rows`` (numbered; see ``CsvRows``, ``numbered``).

    Every row is counted as added, updated, unchanged, stale (older than the stored
    order, by the store's ``updated_at``) or rejected (with its line and reason); rows
    kept with a field dropped (an invalid phone) are listed as warnings. ``replaced``
    (``replaced_lines``) names the rows a later row of the same order replaces: they are
    rejected, naming that row. ``now`` stamps ``created_at`` and, for changed orders
    only, ``updated_at``.
    """
    checked = _chunks(check_rows(rows, options, now))
    return await import_checked(
        sessions, checked, now=now, batch_size=batch_size, replaced=replaced or {}
    )


async def import_checked(
    sessions: async_sessionmaker[AsyncSession],
    chunks: AsyncIterable[list[Checked]],
    *,
    now: datetime,
    batch_size: int = BATCH_SIZE,
    replaced: Mapping[int, int] | None = None,
) -> ImportReport:
    """``import_orders`` of rows already checked (``check_rows``), in order, in chunks."""
    replaced = replaced or {}
    report = ImportReport()
    batch = _Batch()
    pipeline = Pipeline()

    async def write(pending: _Batch) -> None:
        async with sessions.begin() as session:
            await roomy_cache(session)
            written = await _write(session, pending, now)
        report.added += written.added
        report.updated += written.updated
        report.unchanged += written.unchanged
        report.stale += written.stale

    async def flush() -> None:
        nonlocal batch
        if batch.orders:
            await pipeline.submit(write(batch))
            batch = _Batch()

    try:
        async for chunk in chunks:
            await pipeline.breathe()
            for line, verdict in chunk:
                later = replaced.get(line)
                if later is not None:
                    report.reject(line, f"order_id repeated on line {later}, the row kept")
                    continue
                if isinstance(verdict, str):
                    report.reject(line, verdict)
                    continue
                customer, order, notes = verdict
                for note in notes:
                    report.warn(line, note)
                if order["external_id"] in batch.orders:
                    await flush()  # the same order twice: the later row is compared with the first
                batch.add(customer, order)
                if len(batch.orders) >= batch_size:
                    await flush()
        await flush()
    finally:
        await pipeline.drain()
    return report
