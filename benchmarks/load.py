"""Customers in conversation for minutes: reply latency, errors and memory over time.

    .venv/bin/python -m benchmarks.load                      # 1,000 customers, 5 min each
    .venv/bin/python -m benchmarks.load --duration 60        # a shorter run
    .venv/bin/python -m benchmarks.load --framework ptb

This process runs the fake Bot API server (tests/fakes/bot_api.py) on loopback and
plays the customers; the bot runs in a child process (the ``full`` and ``bare`` modes of
``benchmarks.throughput``), so its memory is its own. Each customer is a closed loop:
it sends its next update, waits for the bot's reply to its chat, thinks for a random
0.5-``--think`` seconds, and goes on: the survey (NPS press, reason, CSAT press), then
``/help`` again and again. A reply that does not come within ``--reply-timeout``
seconds is an error (the customer then goes on, as a person would).

Two runs see the same machine, one after the other: ``bare``, an echo bot written the
library's usual way (it answers every update with one ``sendMessage``), then ``full``,
``postsale run`` on SQLite. Reported for each: updates sent, p50 / p99 reply latency
(medians of per-minute figures are not used: the percentiles are over every reply),
errors, and the bot's RSS sampled every ``--sample`` seconds (first and last sample,
peak, and the slope of a least-squares line in MB per minute after the first minute,
when the caches have filled). The ratios full ÷ bare of p50 and p99 are the figures to
quote: the machine is shared, absolute milliseconds drift with it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import signal
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.throughput import ROOT, child_env, seed
from tests.fakes import bot_api as tg

MODES = ("bare", "full")


class TimedBotApi(tg.FakeBotApi):
    """The fake server, waking the one customer a send is for (not every waiter)."""

    def __init__(self) -> None:
        super().__init__()
        self.record = False
        self.arrivals: dict[int, asyncio.Event] = defaultdict(asyncio.Event)
        self.last_reply: dict[int, float] = {}
        self.polling: dict[str, asyncio.Event] = defaultdict(asyncio.Event)

    async def _m_getUpdates(self, call: tg.Call) -> list[dict[str, Any]]:
        self.polling[call.token].set()
        return await super()._m_getUpdates(call)

    async def _sent_message(self, call: tg.Call, **content: Any) -> dict[str, Any]:
        answer = await super()._sent_message(call, **content)
        chat = int(call.params["chat_id"])
        self.last_reply[chat] = time.monotonic()
        self.arrivals[chat].set()
        return answer


@dataclass
class Run:
    label: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    updates: int = 0
    rss: list[tuple[float, float]] = field(default_factory=list)  # (seconds, MB)


def step_update(chat: int, followup_id: int, step: int) -> dict[str, Any]:
    if step == 0:
        return tg.callback(chat, f"nps:{followup_id}:8")
    if step == 1:
        return tg.message(chat, "quick delivery, well packed")
    if step == 2:
        return tg.callback(chat, f"csat:{followup_id}:4")
    return tg.message(chat, "/help")


async def customer(
    api: TimedBotApi,
    token: str,
    chat: int,
    followup_id: int,
    until: float,
    args: argparse.Namespace,
    run: Run,
) -> None:
    rng = random.Random(chat)
    await asyncio.sleep(rng.uniform(0, args.think))  # customers do not start in step
    step = 0
    while time.monotonic() < until:
        arrived = api.arrivals[chat]
        arrived.clear()
        sent_at = time.monotonic()
        await api.inject(step_update(chat, followup_id, step), token=token)
        run.updates += 1
        try:
            await asyncio.wait_for(arrived.wait(), args.reply_timeout)
            run.latencies.append(api.last_reply[chat] - sent_at)
        except TimeoutError:
            run.errors += 1
        step += 1
        await asyncio.sleep(rng.uniform(0.5, args.think))


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def sample_rss(pid: int, run: Run, every: float, stop: asyncio.Event) -> None:
    start = time.monotonic()
    while not stop.is_set():
        try:
            run.rss.append((time.monotonic() - start, rss_mb(pid)))
        except FileNotFoundError:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)


async def one_run(api: TimedBotApi, url: str, mode: str, args: argparse.Namespace) -> Run:
    token = f"{7000 + MODES.index(mode)}00:LOAD"
    run = Run(f"{args.framework:7} {mode:4}")
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite+aiosqlite:///{Path(tmp) / 'load.db'}"
        seeded = (
            await seed(db_url, args.customers)
            if mode == "full"
            else [(10_000 + n, 0) for n in range(args.customers)]
        )
        env = child_env(token, url, db_url, args.framework)
        env["DATA_DIR"] = str(Path(tmp) / "files")
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "benchmarks.throughput",
            "--child",
            mode,
            "--concurrency",
            "16",
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
        )
        stop = asyncio.Event()
        sampler = asyncio.create_task(sample_rss(child.pid, run, args.sample, stop))
        try:
            # The clock starts once the bot polls: start-up is not a reply's latency.
            await asyncio.wait_for(api.polling[token].wait(), 120)
            until = time.monotonic() + args.duration
            await asyncio.gather(
                *(customer(api, token, chat, fid, until, args, run) for chat, fid in seeded)
            )
        finally:
            stop.set()
            await sampler
            child.send_signal(signal.SIGTERM)
            await child.wait()
    return run


def percentile(values: list[float], q: int) -> float:
    """The ``q``-th percentile (1-99) of every value, interpolated."""
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def slope_mb_per_min(samples: list[tuple[float, float]]) -> float:
    settled = [(t, mb) for t, mb in samples if t >= 60] or samples
    if len(settled) < 2:
        return 0.0
    fit = statistics.linear_regression([t for t, _ in settled], [mb for _, mb in settled])
    return fit.slope * 60


def report(run: Run) -> tuple[float, float]:
    p50, p99 = percentile(run.latencies, 50), percentile(run.latencies, 99)
    rss = [mb for _, mb in run.rss] or [0.0]
    print(
        f"  {run.label}: {run.updates} updates, {len(run.latencies)} replies, "
        f"{run.errors} errors; reply latency p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms; "
        f"RSS {rss[0]:.0f} -> {rss[-1]:.0f} MB (peak {max(rss):.0f}, "
        f"{slope_mb_per_min(run.rss):+.2f} MB/min after the first minute)",
        flush=True,
    )
    return p50, p99


async def main(args: argparse.Namespace) -> None:
    api = TimedBotApi()
    url = await api.start()
    print(
        f"{args.customers} customers for {args.duration:.0f} s each run, think time "
        f"0.5-{args.think:.1f} s, reply timeout {args.reply_timeout:.0f} s"
    )
    try:
        bare = await one_run(api, url, "bare", args)
        bare_p = report(bare)
        full = await one_run(api, url, "full", args)
        full_p = report(full)
    finally:
        await api.close()
    print(
        f"  => {args.framework}: full/bare p50 = {full_p[0] / bare_p[0]:.2f}, "
        f"p99 = {full_p[1] / bare_p[1]:.2f}; errors {full.errors} (target 0)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=300.0, help="seconds per run")
    parser.add_argument("--think", type=float, default=5.0, help="longest think time (s)")
    parser.add_argument("--reply-timeout", type=float, default=10.0)
    parser.add_argument("--sample", type=float, default=10.0, help="RSS sample interval (s)")
    parser.add_argument("--framework", choices=("aiogram", "ptb"), default="aiogram")
    asyncio.run(main(parser.parse_args()))
