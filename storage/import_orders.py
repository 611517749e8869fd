"""Importing orders (and their customers): validated row by row, upserted in batches.

Rows are read lazily and written ``batch_size`` at a time, each batch in its own
transaction, so memory stays flat whatever the file size and the bot keeps running
beside a long import. Idempotent on ``order_id``: a row equal to what is stored counts
as unchanged and is not written. Customers are upserted on ``customer_id``; an empty
field never erases a known value, and an anonymised customer is never filled in again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import cached_property, lru_cache
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.import_csv import check_shape
from storage.import_rows import (
    ImportReport,
    PhoneNormaliser,
    Pipeline,
    Row,
    RowError,
    parse_currency,
    parse_locale,
    parse_money,
    parse_time,
    parse_zone,
    required,
    stripped,
)
from storage.upsert import among, db_time, ids_by_key, raw_table, table, upsert

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
BATCH_SIZE = 5000

_CUSTOMER_FIELDS = ("name", "phone", "email", "locale", "timezone")
_ORDER_FIELDS = ("customer_id", "total_cents", "currency", "purchased_at", "delivered_at")
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
    row: Mapping[str, Any], options: OrderOptions, warn: Callable[[str], None]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(customer fields, order fields) of one row; ``RowError`` when it cannot be imported."""
    check_shape(row)
    f = stripped(row)
    get = f.get
    order_id = required(f, "order_id", 128)
    customer_id = required(f, "customer_id", 128)
    tz = options.default_tz
    purchased_at = parse_time(required(f, "purchased_at"), "purchased_at", tz)
    delivered = get("delivered_at")
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
        "delivered_at": parse_time(delivered, "delivered_at", tz) if delivered else None,
    }
    # Checked last: a warning is only worth giving for a row that is kept.
    raw_phone = get("phone")
    if raw_phone:
        customer["phone"] = options.phones(raw_phone, customer["locale"] or options.default_locale)
        if customer["phone"] is None:
            warn(f"phone {raw_phone!r} is not a valid number; imported without it")
    if email is not None and "@" not in email:
        warn(f"email {email!r} has no @; imported without it")
        customer["email"] = None
    return customer, order


class _Batch:
    """Customers (merged by id) and orders waiting to be written together."""

    def __init__(self) -> None:
        self.customers: dict[str, dict[str, Any]] = {}
        self.orders: dict[str, dict[str, Any]] = {}

    def add(self, customer: dict[str, Any], order: dict[str, Any]) -> None:
        known = self.customers.get(customer["external_id"])
        if known is None:
            self.customers[customer["external_id"]] = customer
        else:  # a later row's non-empty values win, as they would in the database
            known.update({k: v for k, v in customer.items() if v is not None})
        self.orders[order["external_id"]] = order


def _differs(new: Mapping[str, Any], old: Any, fields: tuple[str, ...], *, keep: bool) -> bool:
    """Whether writing ``new`` over the stored row ``old`` would change it.

    With ``keep``, an empty (None) new value changes nothing: the stored one stays.
    """
    for name in fields:
        value = new[name]
        if value != getattr(old, name) and not (keep and value is None):
            return True
    return False


async def _stored(
    session: AsyncSession, target: Table, keys: Iterable[str], columns: tuple[str, ...]
) -> dict[str, Any]:
    """The ``columns`` of the ``target`` rows whose ``external_id`` is in ``keys``."""
    wanted = [target.c[name] for name in ("external_id", *columns)]
    query = select(*wanted).where(among(session, target.c.external_id, keys))
    return {row.external_id: row for row in await session.execute(query)}


async def _write(session: AsyncSession, batch: _Batch, now: datetime) -> tuple[int, int, int]:
    """Upsert one batch; (added, updated, unchanged) orders.

    The stored rows are read first so that only new or changed rows are sent; the
    upsert's own ``WHERE <a column differs>`` still guards against a concurrent writer.
    """
    customers, orders = table("customers"), table("orders")
    columns = ("id", "anonymised_at", *_CUSTOMER_FIELDS)
    known = await _stored(session, customers, batch.customers, columns)
    stamp = db_time(session)
    created = stamp(now)
    write = [
        {**c, "created_at": created}
        for key, c in batch.customers.items()
        if key not in known
        or (
            known[key].anonymised_at is None
            and _differs(c, known[key], _CUSTOMER_FIELDS, keep=True)
        )
    ]
    raw = raw_table("customers")
    await upsert(
        session,
        raw,
        write,
        key=("external_id",),
        update=_CUSTOMER_FIELDS,
        keep_when_empty=_CUSTOMER_FIELDS,
        only_if=raw.c.anonymised_at.is_(None),
    )
    ids = {key: row.id for key, row in known.items()}
    ids.update(await ids_by_key(session, customers, "external_id", batch.customers.keys() - ids))
    stored = await _stored(session, orders, batch.orders, _ORDER_FIELDS)
    rows, added = [], 0
    for key, o in batch.orders.items():
        row = {
            "external_id": key,
            "customer_id": ids[o["customer"]],
            "total_cents": o["total_cents"],
            "currency": o["currency"],
            "purchased_at": o["purchased_at"],
            "delivered_at": o["delivered_at"],
        }
        if key not in stored:
            added += 1
        elif not _differs(row, stored[key], _ORDER_FIELDS, keep=False):
            continue
        row["purchased_at"] = stamp(row["purchased_at"])
        row["delivered_at"] = stamp(row["delivered_at"])
        rows.append({**row, "created_at": created, "updated_at": created})
    await upsert(
        session,
        raw_table("orders"),
        rows,
        key=("external_id",),
        update=_ORDER_FIELDS,
        touch=("updated_at",),
    )
    updated = len(rows) - added
    return added, updated, len(batch.orders) - len(rows)


async def import_orders(
    sessions: async_sessionmaker[AsyncSession],
    rows: Iterable[Row],
    options: OrderOptions,
    *,
    now: datetime,
    batch_size: int = BATCH_SIZE,
) -> ImportReport:
    """Upsert customers and orders from ``rows`` (numbered; see ``CsvRows``, ``numbered``).

    Every row is counted as added, updated, unchanged or rejected (with its line and
    reason); rows kept with a field dropped (an invalid phone) are listed as warnings.
    ``now`` stamps ``created_at`` and, for changed orders only, ``updated_at``.
    """
    report = ImportReport()
    batch = _Batch()
    pipeline = Pipeline()

    async def write(pending: _Batch) -> None:
        async with sessions.begin() as session:
            added, updated, unchanged = await _write(session, pending, now)
        report.added += added
        report.updated += updated
        report.unchanged += unchanged

    async def flush() -> None:
        nonlocal batch
        if batch.orders:
            await pipeline.submit(write(batch))
            batch = _Batch()

    try:
        for line, row in rows:
            await pipeline.breathe()
            notes: list[str] = []
            try:
                customer, order = parse_order(row, options, notes.append)
            except RowError as exc:
                report.reject(line, str(exc))
                continue
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
