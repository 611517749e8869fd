"""Signed webhook POSTs per second through the whole bot on WhatsApp, beside a bare webhook.

    .venv/bin/python -m benchmarks.throughput --whatsapp            # 5,000 POSTs, 3 rounds
    .venv/bin/python -m benchmarks.throughput --whatsapp --quick    # 1,000 POSTs, 1 round

This process runs the fake Cloud API (tests/fakes/cloud_api.py, counting instead of
recording) and the clients; each webhook runs in its own child process:

* ``full``: ``postsale run`` as it is (``run_bot``) with only WhatsApp enabled: the HTTP
  server, the channel's ``POST /whatsapp`` (signature, JSON, per-chat queue), the engine
  on SQLite, the outbox sender sending every reply to the fake Cloud API, the read marks.
  500 customers with a survey in progress each send 10 messages (the NPS group button
  "6 – 10", the score from the list, a reason, the CSAT from the list, then 6 more).
* ``bare``: an aiohttp app that reads the body, checks ``X-Hub-Signature-256``
  (HMAC-SHA256 under the app secret) and answers 200; the same garbage-collector
  settings (``bot.heap``).

Both get the same bodies, signed before the clock starts, from the same clients
(``--whatsapp-clients``, 16: each owns some customers and posts their messages in
order, each after the previous one was answered, as Meta does for one user). The clock
runs from the first POST to the last answer (bare) or to the later of the last answer
and the last reply the fake Cloud API received (full). The send limits are raised far
above Meta's (``WHATSAPP_SEND_RATE``, and the channel's one a second per chat) so that
the bot, not the pacing, is measured. Reported: median POSTs/s, the ratio, the child's
CPU per POST while the clock ran, its peak RSS (``VmHWM``). The two webhooks are
benchmarks/whatsapp_webhooks.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks.throughput import _cpu_seconds
from tests.fakes import wa_updates as wa
from tests.fakes.cloud_api import APP_SECRET, TOKEN, VERIFY_TOKEN, FakeCloudApi, Request

ROOT = Path(__file__).resolve().parents[1]
MODES = ("bare", "full")
PER_CUSTOMER = 10
Signed = tuple[bytes, str]  # a body and its X-Hub-Signature-256


@dataclass
class Result:
    rate: float  # POSTs a second
    rss_mb: float
    cpu_per_post: float  # seconds of the webhook process's CPU, while the clock ran
    replies: int
    tail: float  # seconds from the last answer to the last reply (full)


class CountingCloudApi(FakeCloudApi):
    """The fake Cloud API counting messages (not read marks) and keeping no bodies."""

    def __init__(self) -> None:
        super().__init__()
        self.replies = self.read_marked = 0
        self.last_reply_at = 0.0

    async def _record(self, entry: Request) -> None:
        if entry.accepted and entry.body.get("status") == "read":
            self.read_marked += 1
        elif entry.accepted:
            self.replies += 1
            self.last_reply_at = time.monotonic()


# -- what customers send -------------------------------------------------------------------


def wa_id(n: int) -> str:
    return f"55119{n:08d}"


def script(number: str, fid: int, invitation: int, step: int) -> dict[str, Any]:
    """The ``step``-th message of one customer (as Meta would post it)."""
    if step == 0:  # the NPS arrives as groups: "0 – 5", "6 – 10", "Skip"
        return wa.button_reply(number, f"pick:{invitation}:1", "6 – 10", wa.wamid())
    if step == 1:
        return wa.list_reply(number, f"nps:{fid}:8", "8", wa.wamid())
    if step == 2:
        return wa.text(number, "quick delivery, well packed")
    if step == 3:
        return wa.list_reply(number, f"csat:{fid}:4", "Satisfied", wa.wamid())
    return wa.text(number, ("thanks", "7", "hello again")[step % 3])


def signed(value: dict[str, Any]) -> Signed:
    from bot.channels.whatsapp.webhook import sign

    body = json.dumps(wa.body(value)).encode()
    return body, sign(APP_SECRET, body)


async def seed(db_url: str, customers: int) -> list[tuple[str, int, int]]:
    """Customers linked to a WhatsApp chat, a survey's invitation sent: (wa_id, fid, row)."""
    from sqlalchemy import select, update

    from bot.app import Database
    from bot.bootstrap import build_core
    from bot.settings import Settings
    from storage.models import FollowUp, OutboxMessage
    from tests.builders import customer_with_delivered_order

    now = datetime.now(UTC) - timedelta(minutes=1)
    db = await Database.open(db_url)
    settings = Settings(
        _env_file=None, default_locale="en", whatsapp_token=TOKEN, whatsapp_phone_number_id="1"
    )
    messenger = build_core(db, settings, lambda: now).messenger
    found: list[tuple[str, int]] = []
    try:
        for n in range(customers):
            number = wa_id(n)
            _, _, fid = await customer_with_delivered_order(
                db, f"wa-{n}", chat_id=number, channel="whatsapp", phone="+" + number, now=now
            )
            assert fid is not None
            found.append((number, fid))
        async with db.uow() as uow:
            for _, fid in found:
                followup = await uow.session.get(FollowUp, fid)
                assert followup is not None
                await messenger.start_survey(uow.session, followup, now)
            rows = dict(
                (await uow.session.execute(select(OutboxMessage.chat_id, OutboxMessage.id)))
                .tuples()
                .all()
            )
            # The invitations count as sent already: only the conversation is measured.
            await uow.session.execute(update(OutboxMessage).values(status="sent", sent_at=now))
            await uow.commit()
    finally:
        await db.close()
    return [(number, fid, rows[number]) for number, fid in found]


# -- the parent: fake Cloud API, clients, report ---------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def child_env(api_url: str, db_url: str, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "BOT_TOKEN": "",  # WhatsApp alone
        "WHATSAPP_TOKEN": TOKEN,
        "WHATSAPP_PHONE_NUMBER_ID": wa.PHONE_NUMBER_ID,
        "WHATSAPP_APP_SECRET": APP_SECRET,
        "WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
        "WHATSAPP_API_URL": api_url,
        "WHATSAPP_SEND_RATE": "1000000",
        "SEND_RATE_GLOBAL": "1000000",
        "DATABASE_URL": db_url,
        "HTTP_HOST": "127.0.0.1",
        "HTTP_PORT": str(port),
        "LOG_LEVEL": "WARNING",
        "DEFAULT_LOCALE": "en",
        "WEBHOOK_URL": "",
        "INGEST_SECRET": "",
    }


async def _ready(http: aiohttp.ClientSession, url: str, child: Any) -> None:
    async with asyncio.timeout(60):
        while child.returncode is None:
            try:
                async with http.get(url) as answer:
                    if answer.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError(f"the webhook child exited with {child.returncode}")


async def _client(http: aiohttp.ClientSession, url: str, bodies: list[Signed]) -> list[int]:
    statuses = []
    for body, signature in bodies:
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature}
        async with http.post(url, data=body, headers=headers) as answer:
            await answer.read()
            statuses.append(answer.status)
    return statuses


def _queued(db_path: Path) -> int:
    with sqlite3.connect(db_path, timeout=30) as conn:
        return int(
            conn.execute("SELECT count(*) FROM outbox WHERE status = 'queued'").fetchone()[0]
        )


async def one_run(
    api: CountingCloudApi, url: str, mode: str, customers: int, clients: int
) -> Result:
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "bench.db"
        seeded = await seed(f"sqlite+aiosqlite:///{db_path}", customers)
        # Client c owns customers c, c + clients, ...: one customer's messages in order.
        work: list[list[Signed]] = [[] for _ in range(clients)]
        for step in range(PER_CUSTOMER):
            for n, (number, fid, row) in enumerate(seeded):
                work[n % clients].append(signed(script(number, fid, row, step)))
        for number, _, _ in seeded:
            api.saw_inbound(number)
        port = _free_port()
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "benchmarks.whatsapp_webhooks", mode,
            cwd=ROOT, env=child_env(url, f"sqlite+aiosqlite:///{db_path}", port),
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        connector = aiohttp.TCPConnector(limit=clients)
        try:
            async with aiohttp.ClientSession(connector=connector) as http:
                await _ready(http, base + "/healthz", child)
                replies_before = api.replies
                cpu_start, start = _cpu_seconds(child.pid), time.monotonic()
                answers = await asyncio.gather(
                    *(_client(http, base + "/whatsapp", bodies) for bodies in work)
                )
                end = answered = time.monotonic()
                if mode == "full":
                    while await asyncio.to_thread(_queued, db_path):  # noqa: ASYNC110 - another process
                        await asyncio.sleep(0.05)
                    end = max(end, api.last_reply_at)
                cpu = _cpu_seconds(child.pid) - cpu_start
        finally:
            child.send_signal(signal.SIGTERM)
            out, _ = await child.communicate()
    statuses = [s for found in answers for s in found]
    refused = [s for s in statuses if s != 200]
    assert not refused, f"{mode}: {len(refused)} POSTs refused ({sorted(set(refused))})"
    report = json.loads(out.decode().strip().splitlines()[-1])
    return Result(
        len(statuses) / (end - start),
        report["maxrss_kb"] / 1024,
        cpu / len(statuses),
        api.replies - replies_before,
        end - answered,
    )


async def main(customers: int, runs: int, clients: int) -> None:
    api = CountingCloudApi()
    url = await api.start()
    print(
        f"WhatsApp: {customers * PER_CUSTOMER} signed webhook POSTs from {customers} customers,"
        f" {clients} clients; median of {runs} round(s) of bare, full; CPU of the webhook"
        " process per POST while the clock ran; its peak RSS"
    )
    results: dict[str, list[Result]] = {mode: [] for mode in MODES}
    try:
        for _ in range(runs):
            for mode in MODES:  # alternating: a machine slowing down slows both alike
                results[mode].append(await one_run(api, url, mode, customers, clients))
    finally:
        await api.close()
    medians = {}
    for mode, found in results.items():
        medians[mode] = statistics.median(r.rate for r in found)
        cpu = statistics.median(r.cpu_per_post for r in found)
        tail = statistics.median(r.tail for r in found)
        replies = f", {found[0].replies} replies, the last {tail:.2f} s after the last answer"
        replies = replies if mode == "full" else ""
        print(
            f"  whatsapp {mode:4} clients={clients}: {medians[mode]:7.0f} POSTs/s (runs: "
            f"{', '.join(f'{r.rate:.0f}' for r in found)}), CPU {cpu * 1000:.2f} ms/POST, "
            f"peak RSS {max(r.rss_mb for r in found):.0f} MB{replies}",
            flush=True,
        )
    per_round = [f.rate / b.rate for f, b in zip(results["full"], results["bare"], strict=True)]
    print(
        f"  => whatsapp clients={clients}: full/bare = {medians['full'] / medians['bare']:.2f}"
        f" (per round: {', '.join(f'{r:.2f}' for r in per_round)}; target 0.5)",
        flush=True,
    )
