"""Follow-ups in SQL: planning them for delivered orders and finding what is due.

The scheduler (``bot/scheduling/scheduler.py``) drives these in small transactions. Rows are
claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL so that several bot processes
can share one database; SQLite has one writer at a time (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from flows.contact_window import Window, next_contact_time
from storage.models import Customer, FollowUp, Order

# Re-exported: the scheduler and `postsale link` read the unlinked backlog from here.
from storage.unlinked import UnlinkedCustomer as UnlinkedCustomer
from storage.unlinked import has_linked_chat
from storage.unlinked import unlinked_customers as unlinked_customers
from storage.unlinked import waiting_for_link as waiting_for_link

log = logging.getLogger("postsale.scheduler")

# Skip reasons stored in FollowUp.skip_reason.
OPTED_OUT = "opted_out"
UNREACHABLE = "unreachable"
FORGOTTEN = "forgotten"
THROTTLED = "throttled"
STALE = "stale"
# The stored delivery time gives no due time (e.g. year 9999: adding the delay overflows).
BAD_DATE = "bad_date"


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def customer_zone(name: str | None, default: tzinfo) -> tzinfo:
    """The customer's time zone, or the default when unset or unknown."""
    found = _zone(name) if name else None
    return found if found is not None else default


def _is_pg(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


@dataclass(frozen=True)
class PlanCounts:
    """What one planning batch did: planned, skipped by reason, and orders read."""

    planned: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    seen: int = 0
    last_id: int = 0  # the last order read: where the next batch starts


async def orders_watermark(session: AsyncSession) -> datetime | None:
    """The latest ``orders.updated_at`` (an index lookup): where the next poll starts."""
    return await session.scalar(select(func.max(Order.updated_at)))


async def plan_batch(
    session: AsyncSession,
    now: datetime,
    *,
    delay: timedelta,
    window: Window,
    default_tz: tzinfo,
    stale_after: timedelta,
    updated_since: datetime | None = None,
    after_id: int = 0,
    limit: int = 500,
) -> PlanCounts:
    """Insert follow-ups for up to ``limit`` delivered orders that have none.

    ``due_at`` is delivery + ``delay`` moved into the contact window in the
    customer's time zone. An order whose due time is already ``stale_after`` in
    the past (a back-filled import) is recorded as skipped, never sent; so is one
    whose delivery time gives no due time at all. Orders are read in id order after
    ``after_id``, so a sweep through a big backlog goes on where its last batch ended.
    """
    query = (
        select(Order.id, Order.customer_id, Order.delivered_at, Customer.timezone)
        .join(Customer, Customer.id == Order.customer_id)
        .where(
            Order.id > after_id,
            Order.delivered_at.is_not(None),
            ~exists().where(FollowUp.order_id == Order.id),
        )
        .order_by(Order.id)
        .limit(limit)
    )
    if updated_since is not None:
        query = query.where(Order.updated_at >= updated_since)
    rows = (await session.execute(query)).all()
    fresh: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    for order_id, customer_id, delivered_at, tz_name in rows:
        assert delivered_at is not None  # filtered above
        row = {"order_id": order_id, "customer_id": customer_id, "due_at": delivered_at}
        due = _due_time(row, delivered_at, delay, window, customer_zone(tz_name, default_tz))
        if due is None:
            skipped.append({**row, "status": "skipped", "skip_reason": BAD_DATE})
        elif due <= now - stale_after:
            skipped.append({**row, "status": "skipped", "skip_reason": STALE, "due_at": due})
        else:
            fresh.append({**row, "status": "pending", "skip_reason": None, "due_at": due})
    planned = await _insert_ignoring_duplicates(session, fresh)
    await _insert_ignoring_duplicates(session, skipped)
    reasons = Counter(str(row["skip_reason"]) for row in skipped)
    last = rows[-1][0] if rows else after_id
    return PlanCounts(planned=planned, skipped=reasons, seen=len(rows), last_id=last)


def _due_time(
    row: dict[str, Any], delivered_at: datetime, delay: timedelta, window: Window, tz: tzinfo
) -> datetime | None:
    """The first contact time ``delay`` after delivery; None (logged) when there is none."""
    try:
        return next_contact_time(delivered_at + delay, window, tz)
    except (OverflowError, ValueError):
        # Recorded as skipped by the caller, so it is logged once and never read again.
        log.warning(
            "order %s of customer %s: delivered_at %s gives no due time; skipped",
            row["order_id"],
            row["customer_id"],
            delivered_at.isoformat(),
        )
        return None


async def _insert_ignoring_duplicates(session: AsyncSession, rows: list[dict[str, Any]]) -> int:
    """Insert; an order planned meanwhile by another process is left alone.

    One cached statement with many parameter sets (SQLAlchemy batches them into
    multi-row INSERTs): a statement with the values inlined is compiled anew for
    every batch, which cost most of a planning pass.
    """
    if not rows:
        return 0
    dialect_insert = postgresql.insert if _is_pg(session) else sqlite.insert
    stmt = (
        dialect_insert(FollowUp)
        .on_conflict_do_nothing(index_elements=["order_id"])
        .returning(FollowUp.order_id)
    )
    result = await session.execute(stmt, rows)
    return len(result.all())


async def skip_undeliverable(
    session: AsyncSession, now: datetime, *, throttle: timedelta, stale_after: timedelta
) -> dict[str, int]:
    """Mark due pending follow-ups that must not be sent as skipped; counts by reason."""
    due = and_(FollowUp.status == "pending", FollowUp.due_at <= now)
    other = aliased(FollowUp)
    reasons: list[tuple[str, ColumnElement[bool]]] = [
        (FORGOTTEN, Customer.anonymised_at.is_not(None)),
        (OPTED_OUT, Customer.opted_out_at.is_not(None)),
        (UNREACHABLE, Customer.unreachable_at.is_not(None)),
        (THROTTLED, Customer.last_surveyed_at > now - throttle),
    ]
    counts: dict[str, int] = {}
    for reason, condition in reasons:
        whose = select(Customer.id).where(condition)
        counts[reason] = await _skip(session, and_(due, FollowUp.customer_id.in_(whose)), reason)
    # Another follow-up of the same customer sent within the throttle (e.g. by the console).
    recent = exists().where(
        other.customer_id == FollowUp.customer_id,
        other.id != FollowUp.id,
        other.sent_at > now - throttle,
    )
    counts[THROTTLED] += await _skip(session, and_(due, recent), THROTTLED)
    counts[STALE] = await _skip(session, and_(due, FollowUp.due_at <= now - stale_after), STALE)
    return {reason: n for reason, n in counts.items() if n}


async def _skip(session: AsyncSession, where: ColumnElement[bool], reason: str) -> int:
    stmt = update(FollowUp).where(where).values(status="skipped", skip_reason=reason)
    result = await session.execute(stmt.execution_options(synchronize_session=False))
    count: int = getattr(result, "rowcount", 0)
    return max(count, 0)


@dataclass(frozen=True)
class Claimed:
    """A claimed follow-up and the customer's time zone name."""

    followup: FollowUp
    timezone: str | None


async def _claim(
    session: AsyncSession, where: ColumnElement[bool], after_id: int, limit: int
) -> list[Claimed]:
    query = (
        select(FollowUp, Customer.timezone)
        .join(Customer, Customer.id == FollowUp.customer_id)
        .where(where, FollowUp.id > after_id)
        .order_by(FollowUp.id)
        .limit(limit)
        # Rows another bot process is working on are left to it.
        .with_for_update(skip_locked=True, of=FollowUp)
    )
    rows = (await session.execute(query)).all()
    return [Claimed(followup, tz) for followup, tz in rows]


async def claim_due(
    session: AsyncSession, now: datetime, *, after_id: int = 0, limit: int = 200
) -> list[Claimed]:
    """Pending follow-ups due by ``now`` whose customer has a linked chat."""
    where = and_(FollowUp.status == "pending", FollowUp.due_at <= now, has_linked_chat())
    return await _claim(session, where, after_id, limit)


async def claim_due_of(
    session: AsyncSession, customer_id: int, now: datetime, *, stale_after: timedelta
) -> list[Claimed]:
    """The customer's pending follow-ups due by ``now`` that may still be sent.

    For a customer who has just linked a chat, inside the link's transaction: the
    scheduler's pass skips the others (opted out, unreachable, forgotten, stale).
    """
    where = and_(
        FollowUp.customer_id == customer_id,
        FollowUp.status == "pending",
        FollowUp.due_at <= now,
        FollowUp.due_at > now - stale_after,
        Customer.opted_out_at.is_(None),
        Customer.unreachable_at.is_(None),
        Customer.anonymised_at.is_(None),
    )
    return await _claim(session, where, 0, 10)


async def claim_reminders(
    session: AsyncSession,
    now: datetime,
    *,
    reminder_after: timedelta,
    expires_after: timedelta,
    after_id: int = 0,
    limit: int = 200,
) -> list[Claimed]:
    """Sent, unanswered, not yet reminded follow-ups whose reminder time has come."""
    where = and_(
        FollowUp.status == "sent",
        FollowUp.reminded_at.is_(None),
        FollowUp.answered_at.is_(None),
        FollowUp.sent_at <= now - reminder_after,
        FollowUp.sent_at > now - expires_after,
        Customer.opted_out_at.is_(None),
        Customer.unreachable_at.is_(None),
    )
    return await _claim(session, where, after_id, limit)


async def claim_expiries(
    session: AsyncSession,
    now: datetime,
    *,
    expires_after: timedelta,
    after_id: int = 0,
    limit: int = 200,
) -> list[Claimed]:
    """Sent or reminded follow-ups left unanswered past the expiry."""
    where = and_(
        or_(FollowUp.status == "sent", FollowUp.status == "reminded"),
        FollowUp.answered_at.is_(None),
        FollowUp.sent_at <= now - expires_after,
    )
    return await _claim(session, where, after_id, limit)


async def lock_customer(session: AsyncSession, customer_id: int) -> Customer | None:
    """The customer row, locked (PostgreSQL) and re-read, for the throttle check."""
    return await session.get(Customer, customer_id, with_for_update=True, populate_existing=True)
