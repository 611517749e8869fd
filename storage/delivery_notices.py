"""Delivery notices in SQL: planned from the orders' delivery news, claimed when due.

Two kinds of news make a notice (``bot/scheduling/notices.py`` drives them):

* a status the store reported lately (shipped, out for delivery, delivery failed): one
  notice of that kind per order, due at once, read from ``orders.delivery_status_at``
  (an index range of the last ``max_age``);
* an estimated date that passed without delivery, for an order whose store reports its
  shipping (a status is set): one "delayed" notice per order, due when the estimate's
  day is over in the customer's time zone.

``delivery_notices`` is unique per (order, kind), so replays, restarts and two bot
processes plan each notice once. News older than ``max_age`` is recorded as skipped
("stale"), never sent: an import of last year's orders writes to nobody.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.delivery_status import DELIVERED
from storage.followups import customer_zone
from storage.models import Customer, DeliveryNotice, Order

DELAYED = "delayed"
"""The kind of the notice sent when the estimated date passed without delivery."""

# Skip reasons stored in DeliveryNotice.skip_reason.
STALE = "stale"  # the news is older than NOTICE_MAX_AGE
SUPERSEDED = "superseded"  # the order moved on (e.g. delivered) before the notice went
OPTED_OUT = "opted_out"
UNREACHABLE = "unreachable"  # blocked the bot, or erased (/forget)
NO_CHAT = "no_chat"  # no chat to write to, and no channel that reaches the phone
TURNED_OFF = "turned_off"  # its NOTICE_* setting was turned off after it was planned
FAILED = "failed"  # the message could not be queued (logged)


def _insert(session: AsyncSession) -> Any:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(DeliveryNotice).on_conflict_do_nothing(index_elements=["order_id", "kind"])


def _no_notice(kind: Any) -> Any:
    return ~exists().where(DeliveryNotice.order_id == Order.id, DeliveryNotice.kind == kind)


async def plan_status_notices(
    session: AsyncSession,
    now: datetime,
    *,
    kinds: Collection[str],
    max_age: timedelta,
    limit: int,
) -> int:
    """Plan a notice for each order whose status (one of ``kinds``) changed lately and
    has none yet; returns how many orders were read (``limit`` means: more may wait)."""
    if not kinds:
        return 0
    query = (
        select(Order.id, Order.customer_id, Order.delivery_status, Order.delivery_status_at)
        .where(
            Order.delivery_status_at > now - max_age,
            Order.delivery_status.in_(list(kinds)),
            _no_notice(Order.delivery_status),
        )
        .order_by(Order.delivery_status_at, Order.id)
        .limit(limit)
    )
    rows = (await session.execute(query)).all()
    planned = [
        _row(order_id, customer_id, kind or "", due_at=at or now, now=now)
        for order_id, customer_id, kind, at in rows
    ]
    if planned:
        await session.execute(_insert(session), planned)
    return len(rows)


async def plan_delay_notices(
    session: AsyncSession,
    now: datetime,
    *,
    max_age: timedelta,
    default_tz: tzinfo,
    limit: int,
) -> int:
    """Plan a "delayed" notice for each undelivered order whose estimated day is over in
    its customer's zone; returns how many of them became due (planned or stale)."""
    # An estimate's local day ends at most a day and a zone's offset after it: the range
    # holds every order that may have become late within ``max_age``.
    query = (
        select(Order.id, Order.customer_id, Order.estimated_delivery_at, Customer.timezone)
        .join(Customer, Customer.id == Order.customer_id)
        .where(
            Order.estimated_delivery_at > now - max_age - timedelta(days=2),
            Order.estimated_delivery_at <= now,
            Order.delivered_at.is_(None),
            # Only a store that reports shipping tells us an order is still on its way: one
            # that imports orders at purchase and never again would make every order late.
            Order.delivery_status.is_not(None),
            Order.delivery_status != DELIVERED,
            _no_notice(DELAYED),
        )
        .order_by(Order.estimated_delivery_at, Order.id)
        .limit(limit)
    )
    planned: list[dict[str, Any]] = []
    for order_id, customer_id, estimate, zone in (await session.execute(query)).all():
        if estimate is None:  # excluded by the query; for the type checker
            continue
        late_from = day_after(estimate, customer_zone(zone, default_tz))
        if late_from > now:
            continue  # still the estimated day where the customer lives
        row = _row(order_id, customer_id, DELAYED, due_at=late_from, now=now)
        row["estimate_at"] = estimate
        if late_from <= now - max_age:  # recorded, so that it is not read again
            row["status"], row["skip_reason"] = "skipped", STALE
        planned.append(row)
    if planned:
        await session.execute(_insert(session), planned)
    return len(planned)


def day_after(moment: datetime, zone: tzinfo) -> datetime:
    """The start of the next day after ``moment`` in ``zone``, in UTC: when an order
    estimated for that day becomes late."""
    local = moment.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(local, time(0), tzinfo=zone).astimezone(UTC)


def _row(
    order_id: int, customer_id: int, kind: str, *, due_at: datetime, now: datetime
) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "customer_id": customer_id,
        "kind": kind,
        "status": "pending",
        "skip_reason": None,
        "due_at": due_at,
        "created_at": now,
        "estimate_at": None,
    }


@dataclass(frozen=True)
class DueNotice:
    """A claimed notice, its order, and what the send depends on about the customer."""

    notice: DeliveryNotice
    order: Order
    timezone: str | None
    opted_out: bool
    unreachable: bool


async def claim_due(
    session: AsyncSession, now: datetime, *, after_id: int = 0, limit: int = 200
) -> list[DueNotice]:
    """Pending notices due by ``now``, with their order and customer (rows another bot
    process holds are left to it)."""
    query = (
        select(
            DeliveryNotice,
            Order,
            Customer.timezone,
            Customer.opted_out_at.is_not(None),
            or_(Customer.unreachable_at.is_not(None), Customer.anonymised_at.is_not(None)),
        )
        .join(Order, Order.id == DeliveryNotice.order_id)
        .join(Customer, Customer.id == DeliveryNotice.customer_id)
        .where(
            and_(DeliveryNotice.status == "pending", DeliveryNotice.due_at <= now),
            DeliveryNotice.id > after_id,
        )
        .order_by(DeliveryNotice.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=DeliveryNotice)
    )
    rows = (await session.execute(query)).all()
    return [DueNotice(n, o, tz, bool(out), bool(gone)) for n, o, tz, out, gone in rows]


def skip(notice: DeliveryNotice, reason: str) -> None:
    notice.status, notice.skip_reason = "skipped", reason


def mark_sent(notice: DeliveryNotice, now: datetime) -> None:
    notice.status, notice.sent_at = "sent", now
