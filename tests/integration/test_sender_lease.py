"""Only one process sends the outbox of a database; another takes over when it dies."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from bot.app import Database
from bot.delivery.lease import SenderLease, lock_path, run_with_lease
from bot.delivery.sender import Fence, LeaseLost
from bot.metrics import Metrics

ROOT = Path(__file__).resolve().parents[2]

HOLDER = textwrap.dedent(
    """
    import asyncio, sys
    from bot.app import Database
    from bot.delivery.lease import SenderLease

    async def main() -> None:
        db = await Database.open(sys.argv[1], migrate=False)
        lease = SenderLease(db.engine)
        print("held" if await lease.try_acquire() else "refused", flush=True)
        await asyncio.sleep(60)

    asyncio.run(main())
    """
)


async def test_a_second_process_cannot_take_the_lease_until_the_first_lets_go(
    db: Database, db_url: str
) -> None:
    other = await Database.open(db_url, migrate=False)
    first, second = SenderLease(db.engine), SenderLease(other.engine)
    try:
        assert await first.try_acquire()
        assert not await second.try_acquire()
        assert not second.held
        await first.release()
        assert await second.try_acquire()
        assert not await first.try_acquire()
    finally:
        await first.release()
        await second.release()
        await other.close()


async def test_a_holder_killed_with_sigkill_leaves_the_lease_free(
    db: Database, db_url: str
) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        HOLDER,
        db_url,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        assert line.strip() == b"held"
        lease = SenderLease(db.engine)
        assert not await lease.try_acquire()
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
        for _ in range(50):  # the server notices the closed connection within moments
            if await lease.try_acquire():
                break
            await asyncio.sleep(0.1)
        assert lease.held
        await lease.release()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_a_process_standing_by_sends_once_the_holder_is_gone(
    db: Database, db_url: str
) -> None:
    other = await Database.open(db_url, migrate=False)
    holder = SenderLease(db.engine)
    assert await holder.try_acquire()
    ran = asyncio.Event()

    async def send(fence: Fence) -> None:
        assert await fence()
        ran.set()

    stop = asyncio.Event()
    standby = asyncio.create_task(run_with_lease(SenderLease(other.engine), stop, send, 0.05))
    try:
        await asyncio.sleep(0.3)
        assert not ran.is_set()
        await holder.release()
        await asyncio.wait_for(standby, 10)
        assert ran.is_set()
    finally:
        stop.set()
        await holder.release()
        await other.close()


async def test_stopping_while_standing_by_never_sends(db: Database, db_url: str) -> None:
    other = await Database.open(db_url, migrate=False)
    holder = SenderLease(db.engine)
    assert await holder.try_acquire()
    ran = False

    async def send(fence: Fence) -> None:
        nonlocal ran
        ran = True

    stop = asyncio.Event()
    try:
        standby = asyncio.create_task(run_with_lease(SenderLease(other.engine), stop, send, 0.05))
        await asyncio.sleep(0.2)
        stop.set()
        await asyncio.wait_for(standby, 10)
        assert not ran
    finally:
        await holder.release()
        await other.close()


def test_the_sqlite_lease_file_sits_beside_the_database(tmp_path: Path) -> None:
    async def path_of(url: str) -> Path | None:
        db = await Database.open(url, migrate=False)
        try:
            return lock_path(db.engine)
        finally:
            await db.close()

    file_db = tmp_path / "shop.db"
    assert asyncio.run(path_of(f"sqlite+aiosqlite:///{file_db}")) == Path(f"{file_db}-sender.lock")
    assert asyncio.run(path_of("sqlite+aiosqlite:///:memory:")) is None


async def test_the_sender_gauge_says_which_process_holds_the_lease(
    db: Database, db_url: str
) -> None:
    other = await Database.open(db_url, migrate=False)
    counts = [Metrics(), Metrics()]
    sending = [asyncio.Event(), asyncio.Event()]
    done, lost = asyncio.Event(), asyncio.Event()

    async def first(fence: Fence) -> None:
        sending[0].set()
        await done.wait()

    async def second(fence: Fence) -> None:
        sending[1].set()
        if not lost.is_set():  # once: the lease lost, then taken again
            lost.set()
            raise LeaseLost
        await stop.wait()  # as the sender does

    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(run_with_lease(SenderLease(db.engine), stop, first, 0.05, counts[0]))
    ]
    try:
        await asyncio.wait_for(sending[0].wait(), 10)
        tasks.append(
            asyncio.create_task(
                run_with_lease(SenderLease(other.engine), stop, second, 0.05, counts[1])
            )
        )
        await asyncio.sleep(0.3)
        assert [gauge(m) for m in counts] == [1.0, 0.0]
        done.set()
        await asyncio.wait_for(tasks[0], 10)
        assert gauge(counts[0]) == 0.0
        await asyncio.wait_for(sending[1].wait(), 10)
        async with asyncio.timeout(10):
            while not (lost.is_set() and gauge(counts[1]) == 1.0):  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        stop.set()
        await asyncio.wait_for(tasks[1], 10)
        assert gauge(counts[1]) == 0.0
    finally:
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await other.close()


def gauge(metrics: Metrics) -> float:
    value = metrics.registry.get_sample_value("postsale_outbox_sender")
    assert value is not None
    return value
