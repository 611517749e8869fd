"""Updates per second with 1, 2 and 3 ``postsale run`` processes on one PostgreSQL database.

    .venv/bin/python -m benchmarks.scale                      # 3,000 customers, 10,000 updates
    .venv/bin/python -m benchmarks.scale --customers 600 --updates 2000 --rounds 1

Each run takes a fresh database (created from ``--postgres``, dropped after), seeds
``--customers`` linked customers with orders delivered two days ago (bulk inserts), and
starts the processes in webhook mode, each on its own port, against the fake Bot API
server in a process of its own (tests/reliability/api_process.py). Their schedulers
queue the campaign's invitations and the lease holder sends them; once every customer
has theirs, the clock starts: the customers post ``--updates`` answers through the
test's load balancer (tests/reliability/fleet.py; NPS press, reason, CSAT press, and a
last message for some), each chat's next update after the previous one was accepted,
``--in-flight`` posts at once. The clock stops at the last accepted post.

``SEND_RATE_GLOBAL`` is raised to 1,000 so that the sending of invitations and replies,
not Telegram's 30 a second, is what the processes share with the updates (as
benchmarks/throughput.py does). Reported per run: updates a second, CPU seconds per
update (user + system of all bot processes while the clock ran; the machine has
``os.cpu_count()`` cores, which bounds what more processes can add), the PostgreSQL
server's CPU per update and how many of the machine's cores were busy (PostgreSQL, the
fake server, the balancer and the customers share them: at all cores busy, more processes
cannot add anything, and the ratio says so), and each process's
``/metrics`` (``postsale_updates_handled_total``, ``postsale_outbox_sent_total``,
``postsale_outbox_sender``) against the database's counts once the outbox drained. The
figure is the ratio of the median rate with N processes to that with one; runs
alternate 1, 2, 3 within each round, so that a machine slowing for a while slows all.

Memory is not measured here: issue 20's "RSS over time at 100,000 customers" on
PostgreSQL is ``benchmarks.memory --postgres URL`` (one process, 100,000 customers
mid-survey and a 100,000-message backlog, RSS per minute), since an RSS curve wants
one steady process for minutes rather than three for one campaign.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.app import Database  # noqa: E402
from tests.reliability import campaign as cp  # noqa: E402
from tests.reliability.api_process import ApiProcess  # noqa: E402
from tests.reliability.fleet import Fleet  # noqa: E402

SETTINGS = {"SEND_RATE_GLOBAL": "1000", "CONTACT_WINDOW": "00:00-24:00", "LOG_LEVEL": "WARNING"}


@dataclass
class Run:
    processes: int
    rate: float  # updates a second
    cpu_per_update: float  # seconds
    busy_cores: float  # the whole machine's CPU while the clock ran, in cores
    postgres_per_update: float  # seconds of PostgreSQL's processes' CPU
    handled: tuple[list[int], int]  # per process from /metrics; the database's count
    sent: tuple[list[int], int]
    senders: list[int]  # postsale_outbox_sender of each process


async def _admin(url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def one_run(args: argparse.Namespace, processes: int, name: str) -> Run:
    await _admin(args.postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await _admin(args.postgres, f'CREATE DATABASE "{name}"')
    url = args.postgres.rsplit("/", 1)[0] + f"/{name}"
    db = await Database.open(url)
    api = ApiProcess()
    try:
        chats = await cp.seed(db, args.customers)
        with tempfile.TemporaryDirectory() as tmp:
            await api.start()
            fleet = Fleet(processes, url, api, Path(tmp), **SETTINGS)
            try:
                await fleet.start()
                return await _measure(args, db, api, fleet, chats)
            finally:
                await fleet.close()
    finally:
        await api.close()
        await db.close()
        await _admin(args.postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _measure(
    args: argparse.Namespace, db: Database, api: ApiProcess, fleet: Fleet, chats: list[str]
) -> Run:
    customers = cp.Customers(fleet, api, chats, args.updates, in_flight=args.in_flight)
    await customers.until_invited(within=600)  # every invitation out before the clock
    cpu, machine = fleet.cpu_seconds(), machine_cpu()
    await customers.play(within=1800)
    cpu = fleet.cpu_seconds() - cpu
    busy, postgres = (after - before for after, before in zip(machine_cpu(), machine, strict=True))
    took = customers.last_accept - (customers.first_post or time.monotonic())
    await cp.until_drained(db, within=600)
    pages = await fleet.scrape_all()
    handled, sent = await cp.counts(db)
    await fleet.stop()
    return Run(
        processes=len(fleet.bots),
        rate=customers.total / took,
        cpu_per_update=cpu / customers.total,
        busy_cores=busy / took,
        postgres_per_update=postgres / customers.total,
        handled=([int(p.get("postsale_updates_handled_total", 0)) for p in pages], handled),
        sent=([int(p.get("postsale_outbox_sent_total", 0)) for p in pages], sent),
        senders=[int(p.get("postsale_outbox_sender", 0)) for p in pages],
    )


def machine_cpu() -> tuple[float, float]:
    """CPU seconds so far: the whole machine's busy time (``/proc/stat``), and that of
    the PostgreSQL server's processes (its backends live as long as the bots' pools)."""
    tick = os.sysconf("SC_CLK_TCK")
    with open("/proc/stat") as stat:
        ticks = [int(n) for n in stat.readline().split()[1:]]
    busy = sum(ticks) - ticks[3] - ticks[4]  # all but idle and iowait
    postgres = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as found:
                name, fields = found.read().rsplit(")", 1)
        except OSError:
            continue  # gone meanwhile
        if name.endswith("(postgres"):
            parts = fields.split()
            postgres += int(parts[11]) + int(parts[12])
    return busy / tick, postgres / tick


def _line(run: Run) -> str:
    (handled, db_handled), (sent, db_sent) = run.handled, run.sent
    same = sum(handled) == db_handled and sum(sent) == db_sent
    return (
        f"  {run.processes} process(es): {run.rate:7.1f} updates/s, "
        f"{run.cpu_per_update * 1000:5.2f} ms CPU/update (PostgreSQL "
        f"{run.postgres_per_update * 1000:.2f}), machine {run.busy_cores:.2f} cores busy; "
        f"/metrics handled {handled} "
        f"(db {db_handled}), sent {sent} (db {db_sent}), sender {run.senders}"
        f"{'' if same else '  MISMATCH'}"
    )


async def main(args: argparse.Namespace) -> int:
    print(
        f"{args.updates} updates from {args.customers} customers, {args.in_flight} posts in "
        f"flight, webhook mode on PostgreSQL, {os.cpu_count()} CPUs; {args.rounds} round(s)"
    )
    runs: dict[int, list[Run]] = {n: [] for n in args.processes}
    for round_ in range(args.rounds):
        for n in args.processes:
            # Names of this run's own: a process left from another run (killed) would
            # otherwise find a database of its name again, and hold its sender lease.
            run = await one_run(args, n, f"postsale_scale_{os.getpid()}_{round_}_{n}")
            runs[n].append(run)
            print(f"round {round_ + 1}:", _line(run), flush=True)
    base = statistics.median(r.rate for r in runs[args.processes[0]])
    print("medians:")
    bad = 0
    for n, done in runs.items():
        rate = statistics.median(r.rate for r in done)
        cpu = statistics.median(r.cpu_per_update for r in done)
        busy = statistics.median(r.busy_cores for r in done)
        bad += sum(sum(r.handled[0]) != r.handled[1] or sum(r.sent[0]) != r.sent[1] for r in done)
        print(
            f"  {n} process(es): {rate:7.1f} updates/s, x{rate / base:.2f} of "
            f"{args.processes[0]}, {cpu * 1000:.2f} ms CPU/update, machine {busy:.2f} of "
            f"{os.cpu_count()} cores busy"
        )
    return 1 if bad else 0


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=3000)
    parser.add_argument("--updates", type=int, default=10_000)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--in-flight", type=int, default=64, help="posts at once")
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "POSTSALE_BENCH_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
        ),
        help="a PostgreSQL URL to create the runs' databases from",
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse())))
