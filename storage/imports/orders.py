"""Importing orders (and their customers): validated row by row, upserted in batches.

Rows are read lazily and written ``batch_size`` at a time, each batch in its own
transaction, so memory stays flat whatever the file size and the bot keeps running
beside a long import. Idempotent on ``order_id``: a row equal to what is stored counts
as unchanged and is not written; a row whose ``updated_at`` (the store's version of the
order) is not newer than the stored one is stale and changes nothing, and an empty
delivery field (``delivered_at``, the estimate, status or tracking address) never clears
a known one; a delivered order stays delivered (``storage.delivery_status``). Customers
are upserted on ``customer_id``; an empty field never erases a known value, and an
anonymised customer is never filled in again.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import cached_property, lru_cache
from itertools import islice
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.imports.csv_rows import check_shape
from storage.imports.delivery_fields import delivery_fields
from storage.imports.order_writes import OrderBatch, write_batch
from storage.imports.rows import (
    ImportReport,
    PhoneNormaliser,
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
    zone,
)
from storage.imports.upsert import roomy_cache, shrink_caches
from storage.imports.write_behind import Pipeline

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
    "estimated_delivery_at",
    "delivery_status",
    "tracking_url",
)
"""The columns of an orders file (``updated_at``, the store's version, may be added)."""
REQUIRED_ORDER_COLUMNS = ("order_id", "customer_id", "purchased_at")
BATCH_SIZE = 25_000
"""Orders a transaction writes. Large batches matter on SQLite: rows land at random
places in the indexes (purchase time, order id), and each transaction writes every index
page it touched, so more rows a page per transaction means fewer pages written per row
(1,000,000 orders: 46 s of CPU at 25,000 a batch, 57 s at 5,000)."""

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
    purchase, a total, a currency, a locale, a time zone, a delivery status or estimate
    that cannot be right); a detail whose loss still leaves a usable order (a phone, an
    e-mail, a tracking address) is dropped with a warning.
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
    customer_tz = zone(customer["timezone"]) if customer["timezone"] else None
    order.update(delivery_fields(f, order, (tz, customer_tz or tz), now, notes.append))
    # Checked last: a warning is only worth giving for a row that is kept.
    for note in notes:
        warn(note)
    _contact(customer, get("phone"), options, warn)
    return customer, order


def _contact(
    customer: dict[str, Any],
    raw_phone: str | None,
    options: OrderOptions,
    warn: Callable[[str], None],
) -> None:
    """The customer's phone (E.164) and e-mail, each dropped with a warning if unreadable."""
    if raw_phone:
        # The store's country, not the customer's language: a Brazilian shop's customer
        # who reads Spanish still has a Brazilian number.
        customer["phone"] = options.phones(raw_phone, options.default_locale)
        if customer["phone"] is None:
            warn(f"phone {raw_phone!r} is not a valid number; imported without it")
    email = customer["email"]
    if email is not None and parse_email(email) is None:
        warn(f"email {email!r} is not an e-mail address; imported without it")
        customer["email"] = None


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


def _kept(
    line: int, verdict: Any, replaced: Mapping[int, int], report: ImportReport
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The (customer, order) of a checked row that is kept, its warnings reported; None
    when it is rejected (the reason reported)."""
    later = replaced.get(line)
    if later is not None:
        report.reject(line, f"order_id repeated on line {later}, the row kept")
        return None
    if isinstance(verdict, str):
        report.reject(line, verdict)
        return None
    customer, order, notes = verdict
    for note in notes:
        report.warn(line, note)
    return customer, order


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
    batch = OrderBatch()
    pipeline = Pipeline()

    roomy: list[dict[Any, Any] | None] = []

    async def write(pending: OrderBatch) -> None:
        async with sessions.begin() as session:
            roomy.append(await roomy_cache(session))
            written = await write_batch(session, pending, now)
        report.added += written.added
        report.updated += written.updated
        report.unchanged += written.unchanged
        report.stale += written.stale

    async def flush() -> None:
        nonlocal batch
        if batch.orders:
            await pipeline.submit(write(batch))
            batch = OrderBatch()

    try:
        async for chunk in chunks:
            await pipeline.breathe()
            for line, verdict in chunk:
                kept = _kept(line, verdict, replaced, report)
                if kept is None:
                    continue
                customer, order = kept
                if order["external_id"] in batch.orders:
                    await flush()  # the same order twice: the later row is compared with the first
                batch.add(customer, order)
                if len(batch.orders) >= batch_size:
                    await flush()
        await flush()
    finally:
        await pipeline.drain()
        shrink_caches(roomy)
    return report
