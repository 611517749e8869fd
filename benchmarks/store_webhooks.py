"""Signed Shopify webhooks through a real ``postsale run``, beside its order ingestion.

    .venv/bin/python -m benchmarks.store_webhooks            # 10,000 POSTs, 50 clients
    .venv/bin/python -m benchmarks.store_webhooks --requests 2000 --clients 20

Each phase starts ``postsale run`` (WhatsApp on a fake Cloud API, so the process is the
one a shop runs, its scheduler and sender included) on a fresh SQLite file, then posts
from ``--clients`` concurrent clients, each after its previous answer:

* ``shopify``: ``POST /connect/shopify``, signed: 83% ``orders/create`` (distinct
  orders), 15% ``fulfillments/update`` (delivered) of orders the same client created a
  few requests before (completed from the stored order), 2% exact replays of an
  earlier delivery (same ``X-Shopify-Webhook-Id``, same body);
* ``ingest``: the same rows, one order per request, to ``POST /ingest/orders``, the
  door the connector is compared with (the replays sent again as they are);
* ``healthz``: as many ``GET /healthz``: the HTTP server's own ceiling.

Printed: requests/s, median and p99 latency of each; then the checks: no request
refused, every order stored once (none lost, none doubled), every fulfilled order
delivered, every replay answered ``{"duplicate": true}``. The times are near now, so no
follow-up falls due while it runs.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import socket
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks.store_workload import INGEST_SECRET, SHOPIFY_SECRET, Post, workload
from tests.e2e.postsale_process import clean_env
from tests.fakes import wa_updates as wa
from tests.fakes.cloud_api import APP_SECRET, TOKEN, VERIFY_TOKEN, FakeCloudApi

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _ready(http: aiohttp.ClientSession, base: str, child: Any) -> None:
    async with asyncio.timeout(60):
        while child.returncode is None:
            try:
                async with http.get(base + "/healthz") as answer:
                    if answer.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError(f"postsale run exited with {child.returncode}")


Answer = tuple[Post | None, int, dict[str, Any], float]


async def _client(http: aiohttp.ClientSession, base: str, posts: list[Post]) -> list[Answer]:
    answers: list[Answer] = []
    for post in posts:
        start = time.perf_counter()
        async with http.post(base + post.path, data=post.body, headers=post.headers) as r:
            answer = await r.json()
            answers.append((post, r.status, answer, time.perf_counter() - start))
    return answers


async def _health_client(http: aiohttp.ClientSession, base: str, count: int) -> list[Answer]:
    answers: list[Answer] = []
    for _ in range(count):
        start = time.perf_counter()
        async with http.get(base + "/healthz") as r:
            answers.append((None, r.status, await r.json(), time.perf_counter() - start))
    return answers


@dataclass
class Phase:
    name: str
    answers: list[Answer]
    seconds: float

    def line(self) -> str:
        latencies = sorted(a[3] for a in self.answers)
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        return (
            f"  {self.name:8} {len(self.answers) / self.seconds:7.0f} requests/s, latency "
            f"median {statistics.median(latencies) * 1000:6.1f} ms, p99 {p99 * 1000:6.1f} ms"
        )

    @property
    def rate(self) -> float:
        return len(self.answers) / self.seconds


async def _timed(name: str, jobs: list[Any]) -> Phase:
    start = time.monotonic()
    found = await asyncio.gather(*jobs)
    return Phase(name, [a for answers in found for a in answers], time.monotonic() - start)


def child_env(api_url: str, db_url: str, port: int) -> dict[str, str]:
    return clean_env(
        WHATSAPP_TOKEN=TOKEN,
        WHATSAPP_PHONE_NUMBER_ID=wa.PHONE_NUMBER_ID,
        WHATSAPP_APP_SECRET=APP_SECRET,
        WHATSAPP_VERIFY_TOKEN=VERIFY_TOKEN,
        WHATSAPP_API_URL=api_url,
        DATABASE_URL=db_url,
        HTTP_HOST="127.0.0.1",
        HTTP_PORT=str(port),
        LOG_LEVEL="WARNING",
        SHOPIFY_WEBHOOK_SECRET=SHOPIFY_SECRET,
        INGEST_SECRET=INGEST_SECRET,
    )


def _stored(db_path: Path) -> tuple[int, int, int]:
    """(orders, delivered orders, distinct order ids) in the phase's database."""
    with sqlite3.connect(db_path) as conn:
        orders, delivered, distinct = conn.execute(
            "SELECT count(*), count(delivered_at), count(DISTINCT external_id) FROM orders"
        ).fetchone()
    return int(orders), int(delivered), int(distinct)


async def run_phase(door: str, work: list[list[Post]], api_url: str) -> list[Phase]:
    """``postsale run`` on a fresh SQLite file, loaded through ``door``; then checked."""
    with tempfile.TemporaryDirectory() as tmp:
        db_path, port = Path(tmp) / "bench.db", _free_port()
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=tmp,
            env=child_env(api_url, f"sqlite+aiosqlite:///{db_path}", port),
        )  # fmt: skip
        base, phases = f"http://127.0.0.1:{port}", []
        connector = aiohttp.TCPConnector(limit=len(work))
        try:
            async with aiohttp.ClientSession(connector=connector) as http:
                await _ready(http, base, child)
                if door == "ingest":
                    each = sum(map(len, work)) // len(work)
                    health = [_health_client(http, base, each) for _ in work]
                    phases.append(await _timed("healthz", health))
                jobs = [_client(http, base, posts) for posts in work]
                phases.append(await _timed(door, jobs))
        finally:
            child.send_signal(signal.SIGTERM)
            await child.wait()
        check(phases[-1], _stored(db_path))
    return phases


def check(phase: Phase, stored: tuple[int, int, int]) -> None:
    """No request refused; every order once; every fulfillment delivered; replays known."""
    refused = [(a[1], a[2]) for a in phase.answers if a[1] != 200]
    assert not refused, f"{phase.name}: {len(refused)} refused, e.g. {refused[:3]}"
    posts = [a[0] for a in phase.answers if a[0] is not None]
    orders = sum(1 for p in posts if p.kind == "orders" and not p.replay)
    fulfilled = sum(1 for p in posts if p.kind == "fulfillments" and not p.replay)
    count, delivered, distinct = stored
    assert count == distinct == orders, f"{phase.name}: {count} stored of {orders} orders"
    assert delivered == fulfilled, f"{phase.name}: {delivered} delivered of {fulfilled}"
    if phase.name == "shopify":
        replays = [a[2] for a in phase.answers if a[0] is not None and a[0].replay]
        dup = sum(1 for answer in replays if answer == {"duplicate": True})
        assert dup == len(replays), f"{len(replays) - dup} replays not answered duplicate"
        first_time = [a[2] for a in phase.answers if a[0] is not None and not a[0].replay]
        assert all(a.get("added", 0) + a.get("updated", 0) == 1 for a in first_time)
    print(
        f"  {phase.name:8} checked: {count} orders stored of {orders} sent (0 lost, 0 doubled),"
        f" {delivered} delivered of {fulfilled} fulfillments",
        flush=True,
    )


async def main(requests: int, clients: int) -> None:
    api = FakeCloudApi()
    api_url = await api.start()  # postsale run opens WhatsApp against it, nothing more
    print(f"store webhooks: {requests} requests from {clients} clients, postsale run on SQLite")
    try:
        baseline = await run_phase("ingest", workload(requests, clients, "ingest"), api_url)
        shopify = await run_phase("shopify", workload(requests, clients, "shopify"), api_url)
    finally:
        await api.close()
    phases = {p.name: p for p in baseline + shopify}
    for phase in phases.values():
        print(phase.line())
    rate = phases["shopify"].rate
    print(
        f"  => shopify/ingest = {rate / phases['ingest'].rate:.2f},"
        f" shopify/healthz = {rate / phases['healthz'].rate:.2f}",
        flush=True,
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=50)
    options = parser.parse_args()
    asyncio.run(main(options.requests, options.clients))
