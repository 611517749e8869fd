"""The delivery fields of an order row: the estimate, the status and the tracking address.

- ``estimated_delivery_at``: an ISO time or date, when the store expects the order at the
  customer's door. A time without an offset is read in ``DEFAULT_TIMEZONE`` like every
  other time; a date alone (``2025-03-10``) is a day on the customer's calendar, so it is
  read as that day's start (00:00) in the row's ``timezone``, else ``DEFAULT_TIMEZONE``,
  and stored as that moment in UTC: read back in the same zone it gives the same date,
  which is all the on-time KPI compares. It may lie ahead of now, up to
  ``MAX_ESTIMATE_AHEAD``; further ahead, before 2000 or days before the purchase, it is a
  mistake and the row is rejected.
- ``delivery_status``: one of ``DELIVERY_STATUSES``, any case; anything else rejects the
  row. A ``delivered_at`` means delivered, whatever status the row names.
- ``tracking_url``: an http(s) address of at most 2,048 characters; anything else is
  dropped with a warning and the row kept (the order is still worth following up).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta, tzinfo
from typing import Any
from urllib.parse import urlsplit

from storage.delivery_status import DELIVERED, DELIVERY_STATUSES
from storage.imports.rows import EARLIEST, RowError, parse_time

MAX_ESTIMATE_AHEAD = timedelta(days=366)
"""How far ahead an estimate may lie: a year (a leap year's), no shop promises later."""
MAX_URL_LENGTH = 2048
_STATUSES = frozenset(DELIVERY_STATUSES)


def parse_estimate(
    value: str, default_tz: tzinfo, customer_tz: tzinfo, purchased_at: datetime, now: datetime
) -> datetime:
    """``estimated_delivery_at`` as aware UTC (a date alone: its start in ``customer_tz``)."""
    name = "estimated_delivery_at"
    moment = value
    if len(value) == 10:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            pass  # not a date: parse_time names the problem
        else:
            moment = datetime.combine(day, datetime.min.time(), customer_tz).isoformat()
    estimate = parse_time(moment, name, default_tz)
    if estimate < EARLIEST:
        raise RowError(f"{name} {value!r} is before {EARLIEST:%Y}")
    if estimate > now + MAX_ESTIMATE_AHEAD:
        raise RowError(f"{name} {value!r} is more than a year ahead")
    # A whole day's slack: an estimate for the day of purchase is read as that day's start.
    if estimate + timedelta(days=1) <= purchased_at:
        raise RowError(f"{name} {value!r} is before purchased_at")
    return estimate


def parse_delivery_status(value: str) -> str:
    """One of ``DELIVERY_STATUSES`` (``Shipped`` -> ``shipped``)."""
    status = value.lower()
    if status not in _STATUSES:
        known = ", ".join(DELIVERY_STATUSES)
        raise RowError(f"unknown delivery_status {value!r} (one of {known})")
    return status


def parse_tracking_url(value: str) -> str | None:
    """The address when it is an http(s) URL of at most ``MAX_URL_LENGTH``, else None."""
    if len(value) > MAX_URL_LENGTH or any(c.isspace() or ord(c) < 32 for c in value):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. an unbalanced [ in the host
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return value


def delivery_fields(
    fields: Mapping[str, str],
    order: Mapping[str, Any],
    zones: tuple[tzinfo, tzinfo],
    now: datetime,
    warn: Callable[[str], None],
) -> dict[str, Any]:
    """The delivery fields of a row whose other ``order`` fields are read already.

    ``zones``: (``DEFAULT_TIMEZONE``, the customer's zone). ``status_since`` is when a
    status change happened, as far as the row tells: its ``updated_at``, else ``now``;
    the writer stamps ``delivery_status_at`` (and a delivery time the row lacks) with it.
    """
    get = fields.get
    estimate, raw_status, url = get("estimated_delivery_at"), get("delivery_status"), None
    status = parse_delivery_status(raw_status) if raw_status else None
    estimated = parse_estimate(estimate, *zones, order["purchased_at"], now) if estimate else None
    if order["delivered_at"] is not None and status != DELIVERED:
        if status is not None:
            warn(f"delivery_status {raw_status!r} with a delivered_at; read as delivered")
        status = DELIVERED
    if raw_url := get("tracking_url"):
        url = parse_tracking_url(raw_url)
        if url is None:
            shown = raw_url if len(raw_url) <= 80 else raw_url[:77] + "..."
            warn(f"tracking_url {shown!r} is not an http(s) address; imported without it")
    return {
        "estimated_delivery_at": estimated,
        "delivery_status": status,
        "tracking_url": url,
        "status_since": order["version"] or now,
    }
