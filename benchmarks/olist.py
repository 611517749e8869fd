"""The Olist public data set as postsale CSV files, imported and measured.

    .venv/bin/python -m benchmarks.olist OUT_DIR                 # convert, import, print
    .venv/bin/python -m benchmarks.olist OUT_DIR --limit 5000    # the first 5,000 orders
    .venv/bin/python -m benchmarks.olist OUT_DIR --no-import     # only write the CSV files

Orders: ``customer_id`` is Olist's ``customer_unique_id`` (the person; Olist's own
``customer_id`` is one per order, which would hide every repeat purchase), ``total`` is
the sum of the order's payments, ``delivered_at`` the delivery to the customer,
``estimated_delivery_at`` the date Olist promised (``order_estimated_delivery_date``,
midnight of that day), ``shipped`` orders in transit; times are Sao Paulo local time
without an offset. Canceled and unavailable orders are left
out (no sale). Reviews become CSAT answers (``review_score`` 1-5, answered at the
review's answer time), ``response_id`` = review id / order id (Olist reuses a review id
for several orders of one purchase).

Data: "Brazilian E-Commerce Public Dataset by Olist", CC BY-NC-SA 4.0, read from the
shared data folder (``/work/shared/data/olist``), never copied into the repository.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from bot.api import import_orders_file, import_responses_file
from bot.app import Database
from bot.settings import Settings, load_settings
from storage.imports import ORDER_COLUMNS, RESPONSE_COLUMNS, ImportReport
from storage.models import Customer, Order
from storage.read.kpi import compute_kpis


def find_olist_dir() -> Path:
    """Where the Olist data is: ``POSTSALE_OLIST_DIR``, else the team's shared folder.

    The shared folder sits beside the checkout (``../shared``); a clone elsewhere (CI
    clones into a temporary directory) falls back to ``/work/shared``.
    """
    if env := os.environ.get("POSTSALE_OLIST_DIR"):
        return Path(env)
    beside = Path(__file__).resolve().parents[2] / "shared" / "data" / "olist"
    if beside.is_dir():
        return beside
    return Path("/work/shared/data/olist")


OLIST_DIR = find_olist_dir()
SKIPPED_STATUSES = {"canceled", "unavailable"}
# Olist's order_status -> delivery_status; "delivered" comes from the delivery date itself
# (a few delivered orders lack one, and would otherwise be dated by the import's clock).
DELIVERY_STATUS = {"shipped": "shipped"}
CREDIT = 'Data: "Brazilian E-Commerce Public Dataset by Olist" (CC BY-NC-SA 4.0).'


@dataclass(frozen=True)
class Converted:
    """What the conversion wrote (and left out)."""

    orders: Path
    responses: Path
    order_rows: int
    response_rows: int
    skipped_orders: int


def _rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        yield from csv.DictReader(fh)


def convert(olist_dir: Path, out_dir: Path, *, limit: int | None = None) -> Converted:
    """Write ``orders.csv`` and ``responses.csv`` of the first ``limit`` Olist orders."""
    out_dir.mkdir(parents=True, exist_ok=True)
    person = {
        r["customer_id"]: r["customer_unique_id"]
        for r in _rows(olist_dir / "olist_customers_dataset.csv")
    }
    paid: dict[str, Decimal] = defaultdict(Decimal)
    for r in _rows(olist_dir / "olist_order_payments_dataset.csv"):
        paid[r["order_id"]] += Decimal(r["payment_value"])
    owner: dict[str, str] = {}
    skipped = 0
    orders_path = out_dir / "orders.csv"
    with orders_path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.DictWriter(fh, fieldnames=ORDER_COLUMNS)
        out.writeheader()
        for n, r in enumerate(_rows(olist_dir / "olist_orders_dataset.csv")):
            if limit is not None and n >= limit:
                break
            if r["order_status"] in SKIPPED_STATUSES:
                skipped += 1
                continue
            customer = person[r["customer_id"]]
            owner[r["order_id"]] = customer
            total = paid.get(r["order_id"])
            out.writerow(
                {
                    "order_id": r["order_id"],
                    "customer_id": customer,
                    "customer_name": "",
                    "phone": "",
                    "email": "",
                    "locale": "pt-BR",
                    "timezone": "America/Sao_Paulo",
                    "total": "" if total is None else f"{total:.2f}",
                    "currency": "BRL",
                    "purchased_at": r["order_purchase_timestamp"],
                    "delivered_at": r["order_delivered_customer_date"],
                    "estimated_delivery_at": r["order_estimated_delivery_date"],
                    "delivery_status": DELIVERY_STATUS.get(r["order_status"], ""),
                }
            )
    responses_path = out_dir / "responses.csv"
    answers = 0
    with responses_path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.DictWriter(fh, fieldnames=RESPONSE_COLUMNS)
        out.writeheader()
        for r in _rows(olist_dir / "olist_order_reviews_dataset.csv"):
            if r["order_id"] not in owner:
                continue
            comment = " - ".join(
                p for p in (r["review_comment_title"], r["review_comment_message"]) if p
            )
            out.writerow(
                {
                    "response_id": f"{r['review_id']}/{r['order_id']}",
                    "customer_id": owner[r["order_id"]],
                    "order_id": r["order_id"],
                    "kind": "csat",
                    "score": r["review_score"],
                    "comment": comment,
                    "answered_at": r["review_answer_timestamp"],
                }
            )
            answers += 1
    return Converted(orders_path, responses_path, len(owner), answers, skipped)


async def import_and_measure(
    converted: Converted, url: str, settings: Settings
) -> dict[str, object]:
    """Import both files into ``url`` and read back the headline figures."""
    db = await Database.open(url)
    try:
        started = time.perf_counter()
        orders = await import_orders_file(db, converted.orders, settings, now=datetime.now(UTC))
        orders_s = time.perf_counter() - started
        started = time.perf_counter()
        answers = await import_responses_file(db, converted.responses, settings)
        answers_s = time.perf_counter() - started
        async with db.uow() as uow:
            figures = await compute_kpis(
                uow.session, None, None, datetime.now(UTC), default_zone=settings.default_timezone
            )
            order_count = await uow.session.scalar(select(func.count()).select_from(Order))
            customer_count = await uow.session.scalar(select(func.count()).select_from(Customer))
    finally:
        await db.close()
    return {
        "orders_import": orders,
        "orders_import_s": orders_s,
        "responses_import": answers,
        "responses_import_s": answers_s,
        "orders": order_count,
        "customers": customer_count,
        "figures": figures,
    }


def _counts(report: object) -> str:
    assert isinstance(report, ImportReport)
    return (
        f"{report.added:,} added, {report.updated:,} updated, {report.unchanged:,} unchanged, "
        f"{report.rejected:,} rejected"
    )


def _report(converted: Converted, measured: dict[str, object]) -> str:
    figures = measured["figures"]
    assert isinstance(figures, dict)
    customers, csat, delivery = figures["customers"], figures["csat"], figures["delivery"]
    orders, answers = measured["orders_import"], measured["responses_import"]
    lines = [
        f"converted: {converted.order_rows:,} orders ({converted.skipped_orders:,} canceled or "
        f"unavailable left out), {converted.response_rows:,} reviews",
        f"import orders:    {_counts(orders)} in {measured['orders_import_s']:.2f} s",
        f"import responses: {_counts(answers)} in {measured['responses_import_s']:.2f} s",
        f"orders:           {measured['orders']:,}",
        f"customers:        {measured['customers']:,}",
        f"repeat purchase:  {customers['repeat_purchase_pct']} % of customers with orders",
        f"LTV:              {customers['ltv_cents'] / 100:,.2f} BRL",
        f"CSAT mean:        {csat['mean']} ({csat['responses']:,} answers, "
        f"{csat['satisfied_pct']} % satisfied)",
        f"delivered:        {delivery['delivered']:,}: {delivery['on_time']:,} on time, "
        f"{delivery['late']:,} late ({delivery['on_time_pct']} % on time)",
        f"CSAT by delivery: {delivery['csat_on_time']} on time, {delivery['csat_late']} late",
        CREDIT,
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.olist", description=__doc__.split("\n")[0]
    )
    parser.add_argument("out_dir", type=Path, help="where orders.csv and responses.csv are written")
    parser.add_argument("--olist", type=Path, default=OLIST_DIR, help=f"the data ({OLIST_DIR})")
    parser.add_argument("--limit", type=int, default=None, help="only the first N orders")
    parser.add_argument("--no-import", action="store_true", help="only write the CSV files")
    parser.add_argument("--database-url", help="import here (default: OUT_DIR/olist.db, emptied)")
    args = parser.parse_args()
    converted = convert(args.olist, args.out_dir, limit=args.limit)
    print(f"wrote {converted.orders} and {converted.responses}")
    if args.no_import:
        return
    url = args.database_url
    if url is None:
        path = args.out_dir / "olist.db"
        for stale in (path, path.with_name("olist.db-wal"), path.with_name("olist.db-shm")):
            stale.unlink(missing_ok=True)
        url = f"sqlite+aiosqlite:///{path.resolve()}"
    settings = load_settings(database_url=url, default_timezone="America/Sao_Paulo")
    measured = asyncio.run(import_and_measure(converted, url, settings))
    print(_report(converted, measured))


if __name__ == "__main__":
    main()
