"""The web admin's speed on a large SQLite database, over the real HTTP server.

    nice -n 19 .venv/bin/python -m benchmarks.web_admin              # 1,000,000 messages,
                                                                     # 200,000 tickets,
                                                                     # 500,000 orders
    nice -n 19 .venv/bin/python -m benchmarks.web_admin --scale 0.1  # a tenth

Builds a fresh SQLite file (schema by the migrations, rows by raw ``executemany``; the
messages go through the word index's triggers as the bot's own inserts do), starts
``start_http_server`` with the admin, signs an admin in by a one-time link, and asks
each page ``--runs`` times: the ticket list, a ticket's page, a conversation search by
phone and by a word, and the dashboard for 30 days. Prints the median and p95 time per
page (request to last byte, on localhost) and its ratio to ``/healthz`` in the same run.
Targets: ticket pages and searches under 100 ms, the dashboard under 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from bot.app import Database
from bot.entrypoints.http.admin import AdminWiring
from bot.entrypoints.http.app import start_http_server
from bot.settings import Settings
from storage.web_links import create_link

NOW = datetime.now(UTC).replace(microsecond=0)
SPAN = timedelta(days=365)
FORMAT = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a DateTime in SQLite
WORDS = [
    "order",
    "late",
    "box",
    "broken",
    "mug",
    "lid",
    "colour",
    "size",
    "refund",
    "exchange",
    "courier",
    "tracking",
    "thanks",
    "delivered",
    "yesterday",
    "wrong",
    "item",
    "missing",
    "part",
    "please",
    "help",
    "where",
    "when",
    "store",
    "label",
]
RARE = "teapot"  # in about 1 message of 2,000: a word search that finds a page or so
CATEGORIES = ("damaged", "late", "wrong_item", "missing", "other")
STATUSES = ("open", "waiting_customer", "resolved", "closed", "closed", "resolved")


def _stamp(moment: datetime) -> str:
    return moment.replace(tzinfo=None).strftime(FORMAT)


def _chunks(rows: Iterator[tuple[Any, ...]], size: int = 50_000) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _insert(con: sqlite3.Connection, sql: str, rows: Iterator[tuple[Any, ...]]) -> None:
    for chunk in _chunks(rows):
        con.executemany(sql, chunk)


def _phone(n: int) -> str:
    return f"+55119{n:08d}"


def build(path: Path, scale: float) -> dict[str, int]:
    """The rows, by raw ``executemany`` in one transaction; the counts."""
    rng = random.Random(19)
    n_msg, n_tickets, n_orders = int(1e6 * scale), int(2e5 * scale), int(5e5 * scale)
    n_cust = max(n_orders // 3, 10)
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    now = _stamp(NOW)

    def moment() -> str:
        return _stamp(NOW - SPAN * rng.random() ** 0.7)

    _insert(
        con,
        "INSERT INTO customers (id, external_id, name, phone, created_at) VALUES (?,?,?,?,?)",
        ((i, f"c{i}", f"Customer {i}", _phone(i), now) for i in range(1, n_cust + 1)),
    )
    _insert(
        con,
        "INSERT INTO orders (id, external_id, customer_id, total_cents, currency, purchased_at,"
        " delivered_at, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
        (
            (i, f"o{i}", rng.randint(1, n_cust), rng.randint(1000, 90000), "BRL", t, t, now, now)
            for i in range(1, n_orders + 1)
            for t in (moment(),)
        ),
    )
    _insert(
        con,
        "INSERT INTO conversations (id, channel, chat_id, customer_id, flow, state, data,"
        " updated_at) VALUES (?,?,?,?,?,?,?,?)",
        (
            (i, "telegram", str(10_000 + i), i, "idle", "idle", "{}", now)
            for i in range(1, n_cust + 1)
        ),
    )
    _insert(
        con,
        "INSERT INTO channel_identities (customer_id, channel, chat_id, linked_at) VALUES (?,?,?,?)",  # noqa: E501
        ((i, "telegram", str(10_000 + i), now) for i in range(1, n_cust + 1)),
    )

    def text() -> str:
        said = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 14)))
        return f"{said} {RARE}" if rng.random() < 0.0005 else said

    _insert(
        con,
        "INSERT INTO messages (conversation_id, customer_id, channel, chat_id, direction, flow,"
        " text, at) VALUES (?,?,?,?,?,?,?,?)",
        (
            (c, c, "telegram", str(10_000 + c), rng.choice(("in", "out")), "idle", text(), moment())
            for _ in range(n_msg)
            for c in (rng.randint(1, n_cust),)
        ),
    )
    _insert(
        con,
        "INSERT INTO tickets (id, customer_id, order_id, source, category, description, status,"
        " opened_at, waiting_s, reopened_count) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (
            (i, rng.randint(1, n_cust), rng.randint(1, n_orders), "complaint",
             rng.choice(CATEGORIES), text(), rng.choice(STATUSES), moment(), 0, 0)
            for i in range(1, n_tickets + 1)
        ),
    )  # fmt: skip
    _insert(
        con,
        "INSERT INTO ticket_events (ticket_id, kind, actor, at) VALUES (?,?,?,?)",
        ((i, "opened", "customer", now) for i in range(1, n_tickets + 1)),
    )
    _insert(
        con,
        "INSERT INTO survey_responses (dedup_key, customer_id, kind, score, source, answered_at)"
        " VALUES (?,?,?,?,?,?)",
        (
            (f"a{i}", rng.randint(1, n_cust), k, rng.randint(0, 10) if k == "nps" else rng.randint(1, 5), "import", moment())  # noqa: E501
            for i in range(n_tickets)
            for k in (rng.choice(("nps", "csat")),)
        ),
    )  # fmt: skip
    con.commit()
    con.execute("ANALYZE")
    con.close()
    return {"messages": n_msg, "tickets": n_tickets, "orders": n_orders, "customers": n_cust}


class _NoMessenger:
    """The pages asked here only read: nothing is sent to customers."""


async def _signed_in(http: aiohttp.ClientSession, base: str, db: Database) -> None:
    async with db.uow() as uow:
        token = await create_link(uow.session, "1", datetime.now(UTC))
        await uow.commit()
    async with http.get(f"{base}/admin/login", params={"token": token}) as got:
        page = await got.text()
    form = {k: re.search(rf'name="{k}" value="([^"]*)"', page)[1] for k in ("token", "nonce")}  # type: ignore[index]
    async with http.post(f"{base}/admin/login", data=form) as signed:
        assert signed.status == 200 and signed.url.path == "/admin/", signed.status


async def _time(http: aiohttp.ClientSession, url: str, runs: int) -> list[float]:
    spent = []
    for _ in range(runs):
        started = time.perf_counter()
        async with http.get(url) as got:
            await got.read()
            assert got.status == 200, (url, got.status)
        spent.append((time.perf_counter() - started) * 1000)
    return spent


async def measure(path: Path, runs: int, counts: dict[str, int]) -> dict[str, Any]:
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{path}",
        http_port=0,
        http_host="127.0.0.1",
        http_server="on",
        web_secret="a-benchmark-secret-0123456789-abcdef",
        admin_ids=["1"],
        default_locale="en",
    )
    db = await Database.open(settings.database_url)
    runner = await start_http_server(settings, db, {}, admin=AdminWiring(_NoMessenger()))  # type: ignore[arg-type]
    assert runner is not None
    host, port = runner.addresses[0][:2]
    base = f"http://{host}:{port}"
    pages = {
        "/healthz": "/healthz",
        "ticket list": "/admin/tickets",
        "ticket page": f"/admin/tickets/{counts['tickets'] // 2}",
        "search by phone": f"/admin/conversations?phone={_phone(counts['customers'] // 2)}",
        "search by a word": f"/admin/conversations?words={RARE}",
        "dashboard 30 days": "/admin/?period=30d",
    }
    results: dict[str, Any] = {}
    try:
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as http:
            await _signed_in(http, base, db)
            for name, url in pages.items():
                await _time(http, base + url, 2)  # warm: first statements are prepared
                spent = sorted(await _time(http, base + url, runs))
                p95 = spent[min(len(spent) - 1, int(len(spent) * 0.95))]
                results[name] = {"median_ms": statistics.median(spent), "p95_ms": p95}
    finally:
        await runner.cleanup()
        await db.close()
    health = results["/healthz"]["median_ms"]
    for figures in results.values():
        figures["x_healthz"] = figures["median_ms"] / health
    return results


async def _schema(path: Path) -> None:
    db = await Database.open(f"sqlite+aiosqlite:///{path}")  # the migrations
    await db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--db", help="SQLite file to build (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.db) if args.db else Path(tmp) / "web_admin.db"
        path.unlink(missing_ok=True)
        asyncio.run(_schema(path))
        started = time.perf_counter()
        counts = build(path, args.scale)
        built = time.perf_counter() - started
        print(f"built {counts} in {built:.1f} s")
        results = asyncio.run(measure(path, args.runs, counts))
    print(f"{'page':<20}{'median ms':>11}{'p95 ms':>9}{'x /healthz':>12}")
    for name, f in results.items():
        print(f"{name:<20}{f['median_ms']:>11.1f}{f['p95_ms']:>9.1f}{f['x_healthz']:>12.1f}")
    print(json.dumps({"scale": args.scale, "build_s": round(built, 1), "pages": results}))


if __name__ == "__main__":
    main()
