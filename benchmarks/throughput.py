"""Updates per second through the whole bot, beside a bare echo bot of the same library.

    .venv/bin/python -m benchmarks.throughput              # 5,000 updates, 3 rounds
    .venv/bin/python -m benchmarks.throughput --quick      # 1,000 updates, 1 round
    .venv/bin/python -m benchmarks.throughput --bare-library-gc  # bare bot: CPython GC defaults
    .venv/bin/python -m benchmarks.throughput --bare-edits  # bare bot: the full bot's edits too
    .venv/bin/python -m benchmarks.throughput --whatsapp   # WhatsApp's webhook instead
    BENCH_PROFILE=/tmp/p .venv/bin/python -m benchmarks.throughput --quick
                        # the full bot under pyinstrument: /tmp/p.full.txt

``--whatsapp`` measures signed webhook POSTs through the WhatsApp channel beside a bare
aiohttp webhook instead (benchmarks/whatsapp_throughput.py says how).

This process runs the fake Bot API server (tests/fakes/bot_api.py) on loopback; each
bot runs in its own child process, so its peak memory (``VmHWM``) is its own:

* ``full``: ``postsale run`` as it is (``bot.entrypoints.runner.run_bot``): the adapter polls the
  server, the engine handles each update in its SQLite transaction, the outbox sender
  delivers the reply to the server. 500 customers with a survey in progress each
  send 10 updates (NPS button, reason, CSAT button, then 7 more messages), 5,000 in
  all, queued before the bot starts and interleaved across customers.
* ``bare``: an echo bot written the library's usual way (aiogram's
  ``Dispatcher.start_polling``; ptb's ``Updater`` + ``Application``), answering each
  update with one ``sendMessage`` (and ``answerCallbackQuery`` for presses, as the
  full bot does), with the same HTTP pool size, the same concurrency and the same
  garbage-collector settings (``bot.heap``). With ``--bare-edits`` it also removes the
  pressed keyboard (``editMessageReplyMarkup``), the second Bot API call the full bot
  makes for each survey press, so that both make the same calls.

The clock runs from the first ``getUpdates`` that returned updates to the last reply
the server received. The outbox's send limits (``SEND_RATE_GLOBAL``,
``SEND_RATE_PER_CHAT``) are raised far above Telegram's so that the bot, not the
rate limit, is measured. A round runs bare, adapter and full once each, so that the
three see the same machine. Reported: median updates/s, the ratio to the bare bot
(of the medians, and of each round), the bot process's CPU time per update while the
clock ran (user + system, all its threads), its peak RSS (``VmHWM``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import signal
import statistics
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CUSTOMERS = 500
PER_CUSTOMER = 10
POOL = {"aiogram": 100, "ptb": 16}  # HTTP connections, the same in every mode


def pool_size(framework: str) -> int:
    """The HTTP pool of this run (``--aiogram-pool`` / ``--ptb-pool``; the child's env)."""
    return int(os.environ.get("BENCH_POOL") or POOL[framework])


MODES = ("bare", "adapter", "full")
POSTGRES = ""  # --postgres: run the full bot on a fresh PostgreSQL database per run
LIBRARY_GC = False  # --bare-library-gc: the bare bot with CPython's collector defaults
BARE_EDITS = False  # --bare-edits: the bare bot edits a pressed keyboard as the full bot does
_tokens = itertools.count(1)


@dataclass
class Result:
    label: str
    rate: float  # updates a second
    rss_mb: float
    cpu_per_update: float  # seconds of the bot process's CPU, while the clock ran


# -- what customers send ------------------------------------------------------------------


def script(chat: int, followup_id: int, step: int) -> dict[str, Any]:
    """The ``step``-th update of one customer (as the fake server's builders make it)."""
    from tests.fakes import bot_api as tg

    if step == 0:
        return tg.callback(chat, f"nps:{followup_id}:8")
    if step == 1:
        return tg.message(chat, "quick delivery, well packed")
    if step == 2:
        return tg.callback(chat, f"csat:{followup_id}:4")
    return tg.message(chat, ("thanks", "7", "hello again")[step % 3])


async def seed(db_url: str, customers: int) -> list[tuple[int, int]]:
    """Customers with a delivered order and an invitation already sent: (chat, follow-up)."""
    from sqlalchemy import update

    from bot.app import Database
    from bot.bootstrap import build_core
    from bot.settings import Settings
    from storage.models import FollowUp, OutboxMessage
    from tests.builders import customer_with_delivered_order

    now = datetime.now(UTC) - timedelta(minutes=1)
    db = await Database.open(db_url)
    settings = Settings(_env_file=None, default_locale="en")
    messenger = build_core(db, settings, lambda: now).messenger
    seeded = []
    try:
        for n in range(customers):
            chat = 10_000 + n
            _, _, fid = await customer_with_delivered_order(
                db, f"bench-{n}", chat_id=str(chat), now=now
            )
            assert fid is not None
            seeded.append((chat, fid))
        async with db.uow() as uow:
            for _, fid in seeded:
                followup = await uow.session.get(FollowUp, fid)
                assert followup is not None
                await messenger.start_survey(uow.session, followup, now)
            # The invitations count as sent already: only replies are measured.
            await uow.session.execute(update(OutboxMessage).values(status="sent", sent_at=now))
            await uow.commit()
    finally:
        await db.close()
    return seeded


async def replies_per_customer() -> int:
    """How many messages the bot sends for one customer's updates (the engine, in-process)."""
    from aiogram.types import Update
    from sqlalchemy import select

    from bot.app import Database
    from bot.bootstrap import build_core
    from bot.channels.telegram.common import to_incoming
    from bot.settings import Settings
    from storage.models import OutboxMessage

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'calibrate.db'}"
        [(chat, fid)] = await seed(url, 1)
        db = await Database.open(url)
        settings = Settings(_env_file=None, default_locale="en")
        engine = build_core(db, settings, lambda: datetime.now(UTC)).pipeline
        try:
            for step in range(PER_CUSTOMER):
                data = {"update_id": step + 1, **script(chat, fid, step)}
                found = to_incoming(Update.model_validate(data))
                assert found is not None
                await engine.handle(found)
            async with db.uow() as uow:
                query = select(OutboxMessage.body).where(OutboxMessage.status == "queued")
                bodies = (await uow.session.scalars(query)).all()
                # Keyboard edits (editMessageReplyMarkup) are sent too, but the server counts
                # new messages only; the seeded invitations were never on it to be edited.
                return sum(1 for body in bodies if "edit_message_id" not in body)
        finally:
            await db.close()


# -- the parent: server, runs, report -------------------------------------------------------


async def _postgres(admin_url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def one_run(
    api: Any, url: str, framework: str, mode: str, concurrency: int, customers: int, per_reply: int
) -> Result:
    token = f"{next(_tokens)}00:BENCH"
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        if POSTGRES and mode == "full":
            name = f"postsale_bench_{os.getpid()}_{token.split(':')[0]}"
            await _postgres(POSTGRES, f'CREATE DATABASE "{name}"')
            db_url = POSTGRES.rsplit("/", 1)[0] + f"/{name}"
            try:
                return await _measure(
                    api, url, db_url, token, framework, mode, concurrency, customers, per_reply
                )
            finally:
                await _postgres(POSTGRES, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        return await _measure(
            api, url, db_url, token, framework, mode, concurrency, customers, per_reply
        )


async def _measure(
    api: Any,
    url: str,
    db_url: str,
    token: str,
    framework: str,
    mode: str,
    concurrency: int,
    customers: int,
    per_reply: int,
) -> Result:
    seeded = (
        await seed(db_url, customers)
        if mode == "full"
        else [(10_000 + n, 0) for n in range(customers)]
    )
    updates = [script(chat, fid, step) for step in range(PER_CUSTOMER) for chat, fid in seeded]
    await api.inject(*updates, token=token)
    expected = customers * per_reply if mode == "full" else len(updates)
    env = child_env(token, url, db_url, framework)
    env["BENCH_BARE_GC"] = "library" if LIBRARY_GC and mode == "bare" else ""
    env["BENCH_BARE_EDITS"] = "1" if BARE_EDITS and mode == "bare" else ""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "benchmarks.throughput",
        "--child",
        mode,
        "--concurrency",
        str(concurrency),
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        await api.wait_until(lambda: api.served_at(token) is not None, within=600)
        cpu_start = _cpu_seconds(child.pid)
        await api.wait_until(lambda: api.sends[token] >= expected, within=600)
        cpu = _cpu_seconds(child.pid) - cpu_start
    finally:
        child.send_signal(signal.SIGTERM)
        out, _ = await child.communicate()
    report = json.loads(out.decode().strip().splitlines()[-1])
    elapsed = api.last_send_at[token] - api.served_at(token)
    label = f"{framework:7} {mode:4} concurrency={concurrency} pool={POOL[framework]}"
    if LIBRARY_GC and mode == "bare":
        label += " gc=library"
    if BARE_EDITS and mode == "bare":
        label += " +edits"
    return Result(label, len(updates) / elapsed, report["maxrss_kb"] / 1024, cpu / len(updates))


def child_env(token: str, url: str, db_url: str, framework: str) -> dict[str, str]:
    """A bot child's settings: send limits far above Telegram's, so the bot is measured."""
    return {
        **os.environ,
        "BOT_TOKEN": token,
        "TELEGRAM_API_URL": url,
        "DATABASE_URL": db_url,
        "BOT_FRAMEWORK": framework,
        "BENCH_POOL": str(POOL[framework]),
        "SEND_RATE_GLOBAL": "1000000",
        "SEND_RATE_PER_CHAT": "1000000",
        "LOG_LEVEL": "WARNING",
        "DEFAULT_LOCALE": "en",
        "WEBHOOK_URL": "",
        "INGEST_SECRET": "",
    }


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system, all threads) the process ``pid`` has used so far."""
    with open(f"/proc/{pid}/stat") as stat:
        # Fields after the command name (which may hold spaces): utime, stime are 14, 15.
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def main(args: argparse.Namespace) -> None:
    from tests.fakes.bot_api import FakeBotApi

    customers = 100 if args.quick else args.customers
    runs = 1 if args.quick else args.runs
    per_reply = await replies_per_customer()
    api = FakeBotApi()
    api.record = False  # count sends only: memory stays flat over many runs
    url = await api.start()
    configs = [("aiogram", c) for c in args.aiogram_concurrency] + [
        ("ptb", c) for c in args.ptb_concurrency
    ]
    total = customers * PER_CUSTOMER
    print(
        f"{total} updates from {customers} customers ({per_reply} replies each); "
        f"median of {runs} round(s) of bare, adapter, full; CPU of the bot process per "
        "update while the clock ran; its peak RSS"
    )
    try:
        for framework, concurrency in configs:
            # Modes alternate within each round: a machine that slows down for a while
            # (a shared VM does) slows every mode alike, not just the one running then.
            results: dict[str, list[Result]] = {mode: [] for mode in MODES}
            for _ in range(runs):
                for mode in MODES:
                    results[mode].append(
                        await one_run(api, url, framework, mode, concurrency, customers, per_reply)
                    )
            medians: dict[str, float] = {}
            for mode, found in results.items():
                rate = statistics.median(r.rate for r in found)
                rss = max(r.rss_mb for r in found)
                cpu = statistics.median(r.cpu_per_update for r in found)
                medians[mode] = rate
                runs_text = ", ".join(f"{r.rate:.0f}" for r in found)
                print(
                    f"  {found[0].label}: {rate:7.0f} updates/s (runs: {runs_text}), "
                    f"CPU {cpu * 1000:.2f} ms/update, peak RSS {rss:.0f} MB",
                    flush=True,
                )
            per_round = [
                full.rate / bare.rate
                for full, bare in zip(results["full"], results["bare"], strict=True)
            ]
            print(
                f"  => {framework} concurrency={concurrency}: full/bare = "
                f"{medians['full'] / medians['bare']:.2f} (per round: "
                f"{', '.join(f'{r:.2f}' for r in per_round)}), adapter/bare = "
                f"{medians['adapter'] / medians['bare']:.2f}",
                flush=True,
            )
    finally:
        await api.close()


# -- the children ----------------------------------------------------------------------------


def _maxrss_kb() -> int:
    """The peak resident memory of this process since it started (``VmHWM``).

    Not ``ru_maxrss``: on Linux that keeps the parent's peak across fork and exec,
    so every child would report at least the benchmark's own size.
    """
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


async def child_full(concurrency: int) -> None:
    from bot.entrypoints.runner import run_bot
    from bot.settings import load_settings

    settings = load_settings()
    options = {"concurrency": concurrency, "pool_size": pool_size(settings.bot_framework)}
    await run_bot(settings, channel_options=options)


async def child_adapter(concurrency: int) -> None:
    """Our adapter (polling, offsets, per-chat queue, the translation) with an echo, no engine."""
    from bot.channels.port import Incoming, Outgoing
    from bot.channels.telegram.factory import build_telegram_channel
    from bot.settings import load_settings
    from flows.events import ButtonIn, TextIn

    settings = load_settings()

    async def echo(incoming: Incoming) -> None:
        event = incoming.event
        text = event.text if isinstance(event, TextIn) else "?"
        text = event.data if isinstance(event, ButtonIn) else text
        await channel.send(Outgoing(incoming.chat_id, text))

    options = {"concurrency": concurrency, "pool_size": pool_size(settings.bot_framework)}
    channel = build_telegram_channel(settings, echo, **options)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    tune_garbage_collector()
    await channel.start()
    await stop.wait()
    await channel.stop()
    await channel.close()


async def child_bare_aiogram(concurrency: int) -> None:
    from aiogram import Bot, Dispatcher
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.exceptions import TelegramBadRequest
    from aiogram.types import CallbackQuery, Message

    api = TelegramAPIServer.from_base(os.environ["TELEGRAM_API_URL"])
    bot = Bot(os.environ["BOT_TOKEN"], session=AiohttpSession(api=api, limit=pool_size("aiogram")))
    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> None:
        await bot.send_message(message.chat.id, message.text or "?")

    @dp.callback_query()
    async def press(query: CallbackQuery) -> None:
        assert query.message is not None and query.data is not None
        if os.environ.get("BENCH_BARE_EDITS"):  # --bare-edits: the full bot's keyboard edit
            with contextlib.suppress(TelegramBadRequest):
                await bot.edit_message_reply_markup(
                    chat_id=query.message.chat.id, message_id=query.message.message_id
                )
        await bot.send_message(query.message.chat.id, query.data)
        await bot.answer_callback_query(query.id)

    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, lambda: asyncio.ensure_future(dp.stop_polling()))
    tune_garbage_collector()
    await dp.start_polling(
        bot, handle_signals=False, tasks_concurrency_limit=concurrency, polling_timeout=25
    )


async def child_bare_ptb(concurrency: int) -> None:
    from telegram import Update
    from telegram.error import BadRequest
    from telegram.ext import (
        Application,
        CallbackQueryHandler,
        ContextTypes,
        MessageHandler,
        filters,
    )

    url = os.environ["TELEGRAM_API_URL"]
    app = (
        Application.builder()
        .token(os.environ["BOT_TOKEN"])
        .base_url(f"{url}/bot")
        .base_file_url(f"{url}/file/bot")
        .connection_pool_size(pool_size("ptb"))
        .pool_timeout(30.0)
        .concurrent_updates(concurrency if concurrency > 1 else False)
        .build()
    )

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None and update.effective_message is not None
        await context.bot.send_message(
            update.effective_chat.id, update.effective_message.text or "?"
        )

    async def press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.message is not None and query.data is not None
        if os.environ.get("BENCH_BARE_EDITS"):  # --bare-edits: the full bot's keyboard edit
            with contextlib.suppress(BadRequest):
                await query.edit_message_reply_markup(None)
        await context.bot.send_message(query.message.chat.id, query.data)
        await query.answer()

    app.add_handler(MessageHandler(filters.ALL, echo))
    app.add_handler(CallbackQueryHandler(press))
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with app:
        assert app.updater is not None
        tune_garbage_collector()
        await app.updater.start_polling(timeout=25)
        await app.start()
        await stop.wait()
        await app.updater.stop()
        await app.stop()


def tune_garbage_collector() -> None:
    """The collector settings ``postsale run`` uses (bot/heap.py): every mode alike.

    With ``--bare-library-gc`` the bare bot keeps CPython's defaults instead, as a bot
    written the library's usual way would (aiogram's bare bot is far slower so:
    every full collection walks the models aiogram built at import).
    """
    if os.environ.get("BENCH_BARE_GC") == "library":
        return
    from bot.heap import tune_garbage_collector as tune

    tune()


def child(mode: str, concurrency: int) -> None:
    framework = os.environ["BOT_FRAMEWORK"]
    if mode == "full":
        job = child_full(concurrency)
    elif mode == "adapter":
        job = child_adapter(concurrency)
    elif framework == "aiogram":
        job = child_bare_aiogram(concurrency)
    else:
        job = child_bare_ptb(concurrency)
    profile_to = os.environ.get("BENCH_PROFILE")
    if not profile_to or mode != "full":
        asyncio.run(_debuggable(job))
    else:  # where the full bot's time goes (pip install pyinstrument): a text report
        from pyinstrument import Profiler

        # Every 2 ms: finer keeps so many stacks that the bot's memory grows by gigabytes.
        profiler = Profiler(interval=0.002, async_mode="disabled")
        profiler.start()
        asyncio.run(_debuggable(job))
        profiler.stop()
        Path(f"{profile_to}.{mode}.txt").write_text(profiler.output_text(unicode=True))
    print(json.dumps({"maxrss_kb": _maxrss_kb()}), flush=True)


async def _debuggable(job: Any) -> None:
    """``kill -USR1`` a child that seems stuck: it prints every task's stack."""

    def dump() -> None:
        for task in asyncio.all_tasks():
            print("task", task.get_name(), file=sys.stderr)
            task.print_stack(file=sys.stderr)

    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, dump)
    await job


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 customers, one run")
    parser.add_argument("--customers", type=int, default=CUSTOMERS)
    parser.add_argument("--runs", type=int, default=3)
    # 16: what ``postsale run`` uses on SQLite (bot/entrypoints/runner.py); "1,16,32" compares.
    parser.add_argument("--aiogram-concurrency", type=_ints, default=[16])
    parser.add_argument("--ptb-concurrency", type=_ints, default=[16])
    parser.add_argument("--aiogram-pool", type=int, default=POOL["aiogram"])
    parser.add_argument("--ptb-pool", type=int, default=POOL["ptb"])
    parser.add_argument(
        "--postgres",
        default="",
        help="a PostgreSQL URL (postgresql+asyncpg://user@host/db) to create databases from",
    )
    parser.add_argument(
        "--bare-library-gc",
        action="store_true",
        help="run the bare bot with CPython's garbage-collector defaults, not bot/heap.py's",
    )
    parser.add_argument(
        "--bare-edits",
        action="store_true",
        help="the bare bot also removes a pressed keyboard (editMessageReplyMarkup), as the"
        " full bot does since survey presses mark their answer",
    )
    parser.add_argument(
        "--whatsapp",
        action="store_true",
        help="WhatsApp's signed webhook POSTs, full bot against a bare aiohttp webhook",
    )
    parser.add_argument("--whatsapp-clients", type=int, default=16, help="POSTs in flight")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--concurrency", type=int, default=1, help=argparse.SUPPRESS)
    parsed = parser.parse_args()
    POSTGRES = parsed.postgres
    LIBRARY_GC = parsed.bare_library_gc
    BARE_EDITS = parsed.bare_edits
    POOL.update(aiogram=parsed.aiogram_pool, ptb=parsed.ptb_pool)
    if parsed.child:
        child(parsed.child, parsed.concurrency)
    elif parsed.whatsapp:
        from benchmarks import whatsapp_throughput as wa_bench

        quick = parsed.quick
        asyncio.run(
            wa_bench.main(
                100 if quick else parsed.customers, 1 if quick else parsed.runs,
                parsed.whatsapp_clients,
            )
        )  # fmt: skip
    else:
        asyncio.run(main(parsed))
