"""``postsale outbox --retry``: an operator queues failed messages again (a real process)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from bot.app import Database
from storage.models import OutboxMessage
from storage.outbox import enqueue
from storage.outbox_body import OutboxBody

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2024, 3, 5, 15, 0, tzinfo=UTC)
# (status, error) of the rows #1..#4
ROWS = [
    ("failed", "gave up after 9 attempts (deadline passed): Transient: 500"),
    ("failed", "blocked: bot was blocked by the user"),
    ("unknown", "answer lost 2 times, maybe delivered; not sent again"),
    ("sent", None),
]


async def _prepare(url: str) -> None:
    db = await Database.open(url)
    try:
        async with db.uow() as uow:
            for n in range(len(ROWS)):
                await enqueue(
                    uow.session,
                    channel="telegram",
                    chat_id="42",
                    body=OutboxBody(text=f"m{n + 1}"),
                    purpose="reply",
                    now=NOW,
                )
            await uow.commit()
        async with db.uow() as uow:
            for row in await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)):
                row.status, row.error = ROWS[row.id - 1]
                row.attempts = 9 if row.status != "sent" else 1
                row.failed_at = NOW if row.status in ("failed", "unknown") else None
            await uow.commit()
    finally:
        await db.close()


async def _rows(url: str) -> list[tuple[int, str, int]]:
    db = await Database.open(url, migrate=False)
    try:
        async with db.reader() as uow:
            found = await uow.session.execute(
                select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.attempts).order_by(
                    OutboxMessage.id
                )
            )
            return [(i, s, a) for i, s, a in found]
    finally:
        await db.close()


def postsale(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url, "BOT_TOKEN": "", "LOG_LEVEL": "WARNING"}
    return subprocess.run(
        [sys.executable, "-m", "bot", "outbox", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


def test_retry_all_queues_failed_messages_again_but_not_those_to_blocked_people(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'outbox.db'}"
    asyncio.run(_prepare(url))

    done = postsale(tmp_path, url, "--retry", "--all")

    assert done.returncode == 0, done.stderr
    assert "queued again: 1 (#1)" in done.stdout
    assert asyncio.run(_rows(url)) == [
        (1, "queued", 0),
        (2, "failed", 9),
        (3, "unknown", 9),
        (4, "sent", 1),
    ]


def test_retry_by_id_queues_those_named_and_says_which_ids_it_left_alone(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'outbox.db'}"
    asyncio.run(_prepare(url))

    done = postsale(tmp_path, url, "--retry", "3", "4", "99")

    assert done.returncode == 1
    assert "queued again: 1 (#3)" in done.stdout
    assert "#4" in done.stderr and "#99" in done.stderr
    assert [status for _, status, _ in asyncio.run(_rows(url))] == [
        "failed",
        "failed",
        "queued",
        "sent",
    ]


def test_retry_without_ids_or_with_a_bad_id_is_refused_and_changes_nothing(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'outbox.db'}"
    asyncio.run(_prepare(url))

    bare = postsale(tmp_path, url, "--retry")
    bad = postsale(tmp_path, url, "--retry", "one")

    assert bare.returncode == 2 and "--all" in bare.stderr
    assert bad.returncode == 2 and "invalid int value" in bad.stderr
    assert [status for _, status, _ in asyncio.run(_rows(url))] == [s for s, _ in ROWS]
