"""Outbox sender throughput against a Bot API endpoint that enforces Telegram's limits.

    .venv/bin/python -m benchmarks.outbox            # 3,000 invitations, 3 runs per limit
    .venv/bin/python -m benchmarks.outbox --quick    # 300 invitations, 1 run

Each run queues N invitations to N different chats in a fresh SQLite database and
sends them through the real ``OutboxSender`` over HTTP to a loopback endpoint that
answers 429 when more than the limit arrives in any one-second window (overall) or
more than one a second reaches one chat. The endpoint runs in a process of its own,
as Telegram does: its clock is not held up by the sender's event loop. Reported:
messages/s against the configured limit (target >= 95%) and the number of 429s
(target 0); medians.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing
import socket
import statistics
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from aiohttp import web
from sqlalchemy import insert

from bot.app import Database
from bot.delivery.limits import SendLimits
from bot.delivery.sender import OutboxSender
from bot.heap import tune_garbage_collector
from storage.models import OutboxMessage
from tests.integration.outbox_fakes import HttpChannel, ScriptedBotApi

NOW = datetime(2024, 3, 5, 15, 0, tzinfo=UTC)


def _serve(port: int, rate: float) -> None:
    """The limit-enforcing endpoint, with ``GET /stats`` telling what it saw."""
    api = ScriptedBotApi(limits=(rate, 1.0))
    app = api.app()

    async def stats(_request: web.Request) -> web.Response:
        stamps = [d.at for d in api.delivered]
        return web.json_response({"stamps": stamps, "too_many": api.too_many})

    app.router.add_get("/stats", stats)
    # Telegram's clock does not stop for a Python collector: a 70 ms pause here
    # would stamp the requests that queued meanwhile together, a burst nobody sent.
    gc.collect()
    gc.freeze()
    web.run_app(app, host="127.0.0.1", port=port, print=None, handle_signals=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _wait_until_up(base: str) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(200):
            try:
                async with http.get(f"{base}/stats"):
                    return
            except aiohttp.ClientError:
                await asyncio.sleep(0.05)
    raise RuntimeError("the fake Bot API endpoint did not start")


async def one_run(count: int, rate: float) -> tuple[float, int, int]:
    """Send ``count`` invitations at a ``rate`` limit; (messages/s, 429s, delivered)."""
    port = _free_port()
    server = multiprocessing.get_context("spawn").Process(target=_serve, args=(port, rate))
    server.start()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        db = await Database.open(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
        channel = HttpChannel(base)
        try:
            await _wait_until_up(base)
            async with db.uow() as uow:
                await uow.session.execute(
                    insert(OutboxMessage),
                    [
                        {
                            "channel": "telegram",
                            "chat_id": str(100_000 + n),
                            "purpose": "invitation",
                            "body": {"text": f"invitation {n}"},
                            "status": "queued",
                            "created_at": NOW,
                            "attempts": 0,
                        }
                        for n in range(count)
                    ],
                )
                await uow.commit()
            limits = SendLimits(global_rate=rate, per_chat_rate=1.0)
            sender = OutboxSender(db, {"telegram": channel}, limits, log_every=3600)
            tune_garbage_collector()  # as ``postsale run`` does once it is set up
            await sender.run(until_idle=True)
            async with aiohttp.ClientSession() as http, http.get(f"{base}/stats") as response:
                seen = await response.json()
            # The rate the server saw, from the first to the last accepted message.
            stamps = seen["stamps"]
            span = max(stamps[-1] - stamps[0], 1e-9)
            measured = (len(stamps) - 1) / span if len(stamps) > 1 else 0.0
            return measured, int(seen["too_many"]), len(stamps)
        finally:
            await channel.close()
            await db.close()
            server.terminate()
            server.join()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 messages, one run")
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rates", default="30,1000", help="limits to try, messages a second")
    args = parser.parse_args()
    count, runs = (300, 1) if args.quick else (args.count, args.runs)
    for rate in (float(r) for r in args.rates.split(",")):
        results = [await one_run(count, rate) for _ in range(runs)]
        speeds = [r[0] for r in results]
        median = statistics.median(speeds)
        print(
            f"limit {rate:6.0f}/s: {count} invitations, median {median:7.1f} msg/s "
            f"= {median / rate:6.1%} of the limit (runs: "
            f"{', '.join(f'{s:.1f}' for s in speeds)}); "
            f"429s: {sorted(r[1] for r in results)}; delivered: {sorted(r[2] for r in results)}"
        )


if __name__ == "__main__":
    asyncio.run(main())
