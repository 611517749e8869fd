"""The service API of store integrations: order, answer and spend imports.

The command line (``postsale import-*``) and the HTTP ingestion (``POST /ingest/orders``)
both go through these functions, so a row is read the same way wherever it comes from:
times without an offset in ``DEFAULT_TIMEZONE``, phones in E.164, money in cents.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.app import Database
from bot.phones import normalise_phone
from bot.settings import Settings
from storage.imports import (
    REQUIRED_ORDER_COLUMNS,
    REQUIRED_RESPONSE_COLUMNS,
    REQUIRED_SPEND_COLUMNS,
    CsvRows,
    ImportReport,
    OrderOptions,
    import_orders,
    import_responses,
    import_spend,
    numbered,
    open_csv,
    replaced_lines,
)
from storage.imports.responses import TagMany

IngestResult = ImportReport
"""What ``record_orders`` answers: added, updated, unchanged, rejected (with reasons)."""


def order_options(settings: Settings) -> OrderOptions:
    """How the settings say order rows are read."""
    return OrderOptions(
        default_tz=settings.tz,
        default_locale=settings.default_locale,
        normalise_phone=normalise_phone,
    )


async def record_orders(
    db: Database, items: Iterable[Mapping[str, Any]], settings: Settings, *, now: datetime
) -> IngestResult:
    """Upsert order objects (the orders CSV's fields); rejections name the item, from 1.

    Besides ``delivered_at`` an object may carry ``estimated_delivery_at`` (an ISO time,
    or a date read in the customer's zone), ``delivery_status`` (one of
    ``storage.delivery_status.DELIVERY_STATUSES``) and ``tracking_url``; an absent or
    empty one keeps what is stored, and a delivered order stays delivered. Give
    ``updated_at`` (the store's version) so that a replayed older event is skipped, and
    so that a status change is dated when it happened rather than when it arrived.
    """
    listed = list(items)
    replaced = replaced_lines(numbered(listed))
    options = order_options(settings)
    return await import_orders(db.sessions, numbered(listed), options, now=now, replaced=replaced)


async def import_orders_file(
    db: Database, path: Path, settings: Settings, *, now: datetime
) -> ImportReport:
    """``postsale import-orders``: raises ``OSError`` or ``CsvHeaderError`` when unreadable.

    The file is read twice: once for the order ids alone (``replaced_lines``), then to import.
    """
    with open_csv(path) as handle:
        replaced = replaced_lines(CsvRows(handle, REQUIRED_ORDER_COLUMNS))
    with open_csv(path) as handle:
        rows = CsvRows(handle, REQUIRED_ORDER_COLUMNS)
        options = order_options(settings)
        return await import_orders(db.sessions, rows, options, now=now, replaced=replaced)


async def import_responses_file(
    db: Database, path: Path, settings: Settings, *, tag_many: TagMany | None = None
) -> ImportReport:
    """``postsale import-responses``: past NPS/CSAT answers (``source = "import"``), each
    comment tagged with its theme by ``tag_many`` (``ThemeModel.tag_many``)."""
    with open_csv(path) as handle:
        rows = CsvRows(handle, REQUIRED_RESPONSE_COLUMNS)
        return await import_responses(db.sessions, rows, default_tz=settings.tz, tag_many=tag_many)


async def import_spend_file(db: Database, path: Path, settings: Settings) -> ImportReport:
    """``postsale import-spend``: marketing spend per month and channel, for CAC."""
    with open_csv(path) as handle:
        rows = CsvRows(handle, REQUIRED_SPEND_COLUMNS)
        return await import_spend(db.sessions, rows, default_tz=settings.tz)
