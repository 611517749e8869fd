"""Importing marketing spend (for CAC): one amount per month and channel, upserted."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.imports.csv_rows import check_shape
from storage.imports.rows import ImportReport, Row, RowError, parse_currency, parse_money, text
from storage.imports.upsert import table, upsert

SPEND_COLUMNS = ("month", "channel", "amount", "currency")
REQUIRED_SPEND_COLUMNS = SPEND_COLUMNS
BATCH_SIZE = 2000

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_spend(row: Mapping[str, Any], default_tz: tzinfo) -> dict[str, Any]:
    """One month's spend on one channel; the month starts at midnight in ``default_tz``."""
    check_shape(row)
    month = text(row, "month", required=True)
    found = _MONTH.match(month)
    if not found or not 1 <= int(found.group(2)) <= 12:
        raise RowError(f"bad month {month!r} (expected YYYY-MM)")
    start = datetime(int(found.group(1)), int(found.group(2)), 1, tzinfo=default_tz)
    return {
        "month": month,
        "month_start": start.astimezone(UTC),
        "channel": text(row, "channel", required=True, max_len=64),
        "amount_cents": parse_money(text(row, "amount", required=True), "amount"),
        "currency": parse_currency(text(row, "currency", required=True)),
    }


async def _write(session: AsyncSession, rows: list[dict[str, Any]]) -> tuple[int, int, int]:
    """Upsert one batch; (added, updated, unchanged)."""
    spend = table("marketing_spend")
    pairs = {(r["month"], r["channel"]) for r in rows}
    query = select(spend.c.id, spend.c.month, spend.c.channel).where(
        spend.c.month.in_({month for month, _ in pairs})
    )
    found = await session.execute(query)
    existing = {row.id for row in found if (row.month, row.channel) in pairs}
    changed = await upsert(
        session,
        spend,
        rows,
        key=("month", "channel"),
        update=("month_start", "amount_cents", "currency"),
        returning="id",
    )
    updated = len(changed & existing)
    return len(changed) - updated, updated, len(rows) - len(changed)


async def import_spend(
    sessions: async_sessionmaker[AsyncSession],
    rows: Iterable[Row],
    *,
    default_tz: tzinfo,
    batch_size: int = BATCH_SIZE,
) -> ImportReport:
    """Upsert marketing spend on (month, channel) from numbered ``rows``."""
    report = ImportReport()
    batch: dict[tuple[str, str], dict[str, Any]] = {}

    async def flush() -> None:
        if batch:
            async with sessions.begin() as session:
                added, updated, unchanged = await _write(session, list(batch.values()))
            report.added += added
            report.updated += updated
            report.unchanged += unchanged
            batch.clear()

    for line, row in rows:
        try:
            spend = parse_spend(row, default_tz)
        except RowError as exc:
            report.reject(line, str(exc))
            continue
        key = (spend["month"], spend["channel"])
        if key in batch:
            await flush()  # the same month and channel twice: the later row wins
        batch[key] = spend
        if len(batch) >= batch_size:
            await flush()
    await flush()
    return report
