"""Importing past NPS/CSAT answers, idempotent on ``response_id`` or the answer itself.

The idempotency key (``SurveyResponse.dedup_key``) is ``import:<response_id>`` when the
file gives one, else a hash of (customer, order, kind, answered_at). The customer and
order are the store's ids; ones we do not know are rejected, as is an order of another
customer. ``order_id`` alone is enough: the customer is then the order's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import tzinfo
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.imports.csv_rows import check_shape
from storage.imports.rows import ImportReport, Row, RowError, parse_int, parse_time, text
from storage.imports.upsert import ids_by_key, table, upsert

RESPONSE_COLUMNS = (
    "response_id",
    "customer_id",
    "order_id",
    "kind",
    "score",
    "comment",
    "answered_at",
)
REQUIRED_RESPONSE_COLUMNS = ("kind", "score", "answered_at")
SCALES = {"nps": (0, 10), "csat": (1, 5)}
BATCH_SIZE = 5000

_FIELDS = (
    "customer_id", "order_id", "kind", "score", "reason", "answered_at", "theme", "theme_source",
)  # fmt: skip
# An operator's theme (storage.themes) is kept whatever the file says.
_THEMES = ("theme", "theme_source")

TagMany = Callable[[Sequence[str]], list[str | None]]
"""Themes of comments, in their order (``storage.themes.TagMany``). Without one, the
stored themes are left as they are."""


def parse_response(row: Mapping[str, Any], default_tz: tzinfo) -> dict[str, Any]:
    """The fields of one answer, the customer and order still as the store's ids."""
    check_shape(row)
    kind = text(row, "kind", required=True).lower()
    if kind not in SCALES:
        raise RowError(f"unknown kind {text(row, 'kind')!r} (nps or csat)")
    low, high = SCALES[kind]
    score = parse_int(text(row, "score", required=True), f"{kind} score", low, high)
    answered_at = parse_time(text(row, "answered_at", required=True), "answered_at", default_tz)
    customer = text(row, "customer_id", max_len=128)
    order = text(row, "order_id", max_len=128)
    if not customer and not order:
        raise RowError("missing customer_id (or order_id)")
    response_id = text(row, "response_id", max_len=200)
    if response_id:
        key = f"import:{response_id}"
    else:
        natural = "\x1f".join((customer, order, kind, answered_at.isoformat()))
        key = "import#" + hashlib.sha256(natural.encode()).hexdigest()
    return {
        "dedup_key": key,
        "customer": customer,
        "order": order,
        "kind": kind,
        "score": score,
        "reason": text(row, "comment") or None,
        "answered_at": answered_at,
    }


async def _resolve(
    session: AsyncSession, batch: list[tuple[int, dict[str, Any]]], report: ImportReport
) -> list[dict[str, Any]]:
    """Swap the store's ids for ours, rejecting rows whose customer or order we do not know."""
    customer_refs = {r["customer"] for _, r in batch if r["customer"]}
    customers = await ids_by_key(session, table("customers"), "external_id", customer_refs)
    orders = table("orders")
    order_refs = {r["order"] for _, r in batch if r["order"]}
    order_ids = await ids_by_key(session, orders, "external_id", order_refs)
    owners = await ids_by_key(session, orders, "external_id", order_refs, column="customer_id")
    rows: dict[str, dict[str, Any]] = {}
    for line, r in batch:
        customer_id = customers.get(r["customer"]) if r["customer"] else None
        order_id = order_ids.get(r["order"]) if r["order"] else None
        if r["customer"] and customer_id is None:
            report.reject(line, f"unknown customer_id {r['customer']!r}")
        elif r["order"] and order_id is None:
            report.reject(line, f"unknown order_id {r['order']!r}")
        elif customer_id is not None and order_id is not None and owners[r["order"]] != customer_id:
            report.reject(line, f"order {r['order']!r} is not customer {r['customer']!r}'s")
        else:
            if customer_id is None:
                customer_id = owners[r["order"]]
            rows[r["dedup_key"]] = {
                "dedup_key": r["dedup_key"],
                "customer_id": customer_id,
                "order_id": order_id,
                "followup_id": None,
                "kind": r["kind"],
                "score": r["score"],
                "reason": r["reason"],
                "source": "import",
                "answered_at": r["answered_at"],
            }
    return list(rows.values())


def _tag(rows: list[dict[str, Any]], tag_many: TagMany | None) -> None:
    """Each row's comment tagged with its theme (None without a comment or a tagger)."""
    commented = [r for r in rows if r["reason"]] if tag_many is not None else []
    themes = tag_many([r["reason"] for r in commented]) if tag_many and commented else []
    for row in rows:
        row["theme"] = row["theme_source"] = None
    for row, theme in zip(commented, themes, strict=True):
        row["theme"], row["theme_source"] = theme, None if theme is None else "model"


async def import_responses(
    sessions: async_sessionmaker[AsyncSession],
    rows: Iterable[Row],
    *,
    default_tz: tzinfo,
    batch_size: int = BATCH_SIZE,
    tag_many: TagMany | None = None,
) -> ImportReport:
    """Upsert NPS/CSAT answers from numbered ``rows`` (``source = "import"``), each
    comment tagged by ``tag_many`` (an operator's theme is kept)."""
    report = ImportReport()
    batch: list[tuple[int, dict[str, Any]]] = []
    keys: set[str] = set()

    async def flush() -> None:
        if not batch:
            return
        async with sessions.begin() as session:
            clean = await _resolve(session, batch, report)
            _tag(clean, tag_many)
            responses = table("survey_responses")
            guard = responses.c.theme_source.is_distinct_from("operator")
            existing = set(
                await ids_by_key(session, responses, "dedup_key", (r["dedup_key"] for r in clean))
            )
            changed = await upsert(
                session,
                responses,
                clean,
                key=("dedup_key",),
                update=_FIELDS if tag_many is not None else _FIELDS[: -len(_THEMES)],
                returning="dedup_key",
                guarded=(_THEMES, guard),
            )
        updated = len(changed & existing)
        report.added += len(changed) - updated
        report.updated += updated
        report.unchanged += len(clean) - len(changed)
        batch.clear()
        keys.clear()

    for line, row in rows:
        try:
            response = parse_response(row, default_tz)
        except RowError as exc:
            report.reject(line, str(exc))
            continue
        if response["dedup_key"] in keys:
            await flush()  # the same answer twice: the later row is compared with the earlier
        batch.append((line, response))
        keys.add(response["dedup_key"])
        if len(batch) >= batch_size:
            await flush()
    await flush()
    return report
