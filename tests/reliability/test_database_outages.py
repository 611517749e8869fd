"""The database goes away while customers write: no update is lost, none confirmed unhandled.

In polling mode an update is confirmed to Telegram (the ``getUpdates`` offset) only once
it is handled. While the database is down the bot must hold the offset and try again
when it is back, not pass the update by after a few tries.

* PostgreSQL: a cluster of the test's own, stopped for ten seconds and started again.
* SQLite: the database on a small tmpfs, filled up for ten seconds (the disk is full),
  then emptied. Skipped, saying why, where the test may not mount a tmpfs.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.app import Database
from tests.fakes import bot_api as tg
from tests.reliability.harness import BotProcess, bot_env, lines_with
from tests.reliability.own_postgres import OwnPostgres, unavailable

pytestmark = pytest.mark.reliability

CHATS = 40
ROUNDS = 12  # /help messages per chat, one round a second
OUTAGE = 10.0


async def customers_write_through(
    api: tg.FakeBotApi, bot: BotProcess, outage: tuple[Callable[[], None], Callable[[], None]]
) -> Counter[str]:
    """ROUNDS rounds of /help from every chat; the outage starts at round 3."""
    down, up = outage
    await bot.start()
    await api.wait_until(lambda: bool(api.of("getUpdates")), within=180)
    for n in range(ROUNDS):
        await api.inject(*(tg.message(30_000 + c, "/help") for c in range(CHATS)))
        if n == 3:
            await asyncio.to_thread(down)  # the fake server keeps serving meanwhile
            await asyncio.sleep(OUTAGE)
            await asyncio.to_thread(up)
        await asyncio.sleep(1.0)
    chats = [str(30_000 + c) for c in range(CHATS)]

    def answered() -> bool:
        replies = Counter(call.chat_id for call in api.sent())
        return all(replies[chat] >= ROUNDS for chat in chats)

    with contextlib.suppress(TimeoutError):  # what is missing then is reported below
        await api.wait_until(answered, within=180)
    assert await bot.stop() == 0
    return Counter(call.chat_id for call in api.sent())


def assert_every_update_answered(replies: Counter[str], what: str) -> None:
    short = {chat: n for chat, n in replies.items() if n < ROUNDS}
    extra = sum(n - ROUNDS for n in replies.values() if n > ROUNDS)
    print(
        f"\n{what}: {sum(replies.values())} replies to {CHATS * ROUNDS} updates, {extra} repeated"
    )
    assert len(replies) == CHATS and not short, f"updates lost: {short}"


@pytest.mark.skipif(unavailable() is not None, reason=str(unavailable()))
async def test_postgresql_stopped_for_ten_seconds_loses_no_update(tmp_path: Path) -> None:
    root = Path(tempfile.mkdtemp(prefix="postsale-pg-"))
    cluster = OwnPostgres(root)
    api = tg.FakeBotApi()
    try:
        cluster.init()
        cluster.start()
        migrated = await Database.open(cluster.url)  # migrations run on open
        await migrated.close()
        env = bot_env(cluster.url, await api.start(), tmp_path, SEND_RATE_GLOBAL="1000")
        bot = BotProcess(env, tmp_path / "bot.log")
        try:
            replies = await customers_write_through(api, bot, (cluster.stop, cluster.start))
        finally:
            await bot.close()
    finally:
        await api.close()
        with contextlib.suppress(Exception):
            cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
    assert_every_update_answered(replies, "PostgreSQL stopped for 10 s")
    assert not lines_with(tmp_path / "bot.log", tg.TOKEN)


def _mount_tmpfs(where: Path, size: str) -> str | None:
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    return None if done.returncode == 0 else (done.stderr.strip() or "mount failed")


def _unmount(where: Path) -> None:
    subprocess.run(["umount", "-l", str(where)], capture_output=True)


async def test_a_full_disk_under_sqlite_for_ten_seconds_loses_no_update(tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    why = _mount_tmpfs(disk, "64m")
    if why is not None:
        pytest.skip(f"cannot mount a small tmpfs here to fill up: {why}")
    api = tg.FakeBotApi()
    filler = disk / "filler"
    try:
        url = f"sqlite+aiosqlite:///{disk / 'postsale.db'}"
        migrated = await Database.open(url)
        await migrated.close()

        def fill() -> None:
            with filler.open("wb") as out, contextlib.suppress(OSError):
                while True:
                    out.write(b"\0" * (1 << 20))

        env = bot_env(url, await api.start(), tmp_path, SEND_RATE_GLOBAL="1000")
        bot = BotProcess(env, tmp_path / "bot.log")
        try:
            replies = await customers_write_through(api, bot, (fill, filler.unlink))
        finally:
            await bot.close()
    finally:
        await api.close()
        _unmount(disk)
    assert_every_update_answered(replies, "SQLite disk full for 10 s")
    assert not lines_with(tmp_path / "bot.log", tg.TOKEN)
