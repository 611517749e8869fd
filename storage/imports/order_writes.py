"""Writing a batch of checked order rows: only what is new or changed reaches the tables.

The stored rows are read first so that only new or changed rows are sent: new ones with
a plain INSERT where that is safe (``insert_new``), changed ones by an upsert whose own
``WHERE <a column differs>`` still guards against a concurrent writer. A row older than
the stored order (``_is_stale``) changes neither it nor its customer. Delivery fields
are settled against the stored order here too (``_delivery``): a delivered order never
moves back, and a status is stamped with its time only when it changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.delivery_status import DELIVERED, settled_status
from storage.imports.upsert import (
    among,
    db_time,
    ids_by_key,
    insert_new,
    raw_table,
    table,
    upsert,
)

_CUSTOMER_FIELDS = ("name", "phone", "email", "locale", "timezone")
_ORDER_FIELDS = ("customer_id", "total_cents", "currency", "purchased_at")
_DELIVERY_FIELDS = (
    "delivered_at",
    "estimated_delivery_at",
    "delivery_status",
    "delivery_status_at",
    "tracking_url",
)
_CUSTOMER_COLUMNS = ("id", "anonymised_at", *_CUSTOMER_FIELDS)
_CUSTOMER_INSERT = ("external_id", *_CUSTOMER_FIELDS, "created_at")
# The store's version last: ``_is_stale`` reads it there.
_ORDER_STORED = (*_ORDER_FIELDS, *_DELIVERY_FIELDS, "source_updated_at")
_KEEP = (*_DELIVERY_FIELDS, "source_updated_at")
"""Columns an empty value never clears (a row that lacks them keeps what is known)."""
_KEPT_WHEN_EMPTY = tuple(_ORDER_STORED.index(name) for name in _KEEP)
_DELIVERED_AT, _STATUS = _ORDER_STORED.index("delivered_at"), _ORDER_STORED.index("delivery_status")
_ORDER_INSERT = ("external_id", *_ORDER_STORED, "created_at", "updated_at")
_KEY = ("external_id",)


class OrderBatch:
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
class Written:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0


def _is_stale(version: Any, old: tuple[Any, ...] | None) -> bool:
    """Whether a row carrying the store's ``version`` is older than (or as old as) ``old``."""
    return version is not None and old is not None and old[-1] is not None and version <= old[-1]


async def write_batch(session: AsyncSession, batch: OrderBatch, now: datetime) -> Written:
    """Upsert one batch: what happened to its orders."""
    stamp = db_time(session)
    created = stamp(now)
    stored = await _stored(session, "orders", batch.orders, _ORDER_STORED)
    written = Written()
    live = []
    for key, (customer, order) in batch.orders.items():
        if _is_stale(stamp(order["version"]), stored.get(key)):
            written.stale += 1
        else:
            live.append((customer, order))
    ids = await _write_customers(session, _merged_customers(live), created)
    added, updated = _order_changes(live, stored, ids, stamp, created)
    await _send_orders(session, added, updated)
    written.added, written.updated = len(added), len(updated)
    written.unchanged = len(live) - written.added - written.updated
    return written


def _order_changes(
    live: list[tuple[dict[str, Any], dict[str, Any]]],
    stored: Mapping[str, tuple[Any, ...]],
    ids: Mapping[str, int],
    stamp: Any,
    created: Any,
) -> tuple[list[tuple[Any, ...]], list[dict[str, Any]]]:
    """The orders of ``live`` to insert (new) and to update (changed), as rows."""
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
            *_delivery(o, old, stamp),
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
    return added, updated


def _delivery(o: Mapping[str, Any], old: tuple[Any, ...] | None, stamp: Any) -> tuple[Any, ...]:
    """The ``_DELIVERY_FIELDS`` of order row ``o`` over the stored ``old`` (None: new).

    A status that would move a delivered order back is not written (None keeps the
    stored one); a status that changes is stamped with the row's time, and a delivery
    the row does not date is dated by it, unless one is known already.
    """
    delivered, reported = stamp(o["delivered_at"]), o["delivery_status"]
    known_delivered = None if old is None else old[_DELIVERED_AT]
    known_status = None if old is None else old[_STATUS]
    status = settled_status(known_status, known_delivered is not None, reported)
    since = stamp(o["status_since"]) if status is not None else None
    now_delivered = DELIVERED in (status, known_status)
    if now_delivered and delivered is None and known_delivered is None:
        delivered = stamp(o["status_since"])
    return delivered, stamp(o["estimated_delivery_at"]), status, since, o["tracking_url"]


async def _send_orders(
    session: AsyncSession, added: list[tuple[Any, ...]], updated: list[dict[str, Any]]
) -> None:
    orders = raw_table("orders")
    touch = ("updated_at",)
    keep = _KEEP
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
