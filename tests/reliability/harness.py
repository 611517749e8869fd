"""A real ``postsale run`` process against the (faulty) fake Bot API, and the checks after it.

The process writes its log to a file, so a test can look for secrets in every line of
it; the database is a real SQLite file or a private PostgreSQL database.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from bot.app import Database
from storage.models import Customer, OutboxMessage
from tests.fakes.bot_api import TOKEN, FakeBotApi

ROOT = Path(__file__).resolve().parents[2]


class BotProcess:
    """``python -m bot run`` with the given settings; stdout and stderr into ``log``."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        handle = self.log.open("ab")
        try:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                cwd=ROOT,
                env=self.env,
                stdout=handle,
                stderr=handle,
            )
        finally:
            handle.close()

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()

    async def stop(self, within: float = 30) -> int:
        """SIGTERM; the exit code (a process that does not stop is killed, and fails)."""
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(within):
                return await self.process.wait()
        except TimeoutError:
            await self.kill()
            raise

    async def close(self) -> None:
        with suppress(ProcessLookupError):
            await self.kill()


def bot_env(db_url: str, api_url: str, tmp: Path, **extra: str) -> dict[str, str]:
    """The settings of a bot process under test (a fresh data directory, no .env)."""
    return {
        **os.environ,
        "DATABASE_URL": db_url,
        "TELEGRAM_API_URL": api_url,
        "BOT_TOKEN": TOKEN,
        "DATA_DIR": str(tmp / "files"),
        "LOG_LEVEL": "INFO",
        "WEBHOOK_URL": "",
        "INGEST_SECRET": "",
        "DEFAULT_LOCALE": "en",
        **extra,
    }


async def queue_invitations(db: Database, customers: int) -> list[str]:
    """``customers`` customers, each with one invitation queued now; their chat ids.

    Each may be retried until its survey would expire, a week on, as the engine's are.
    """
    now_at = datetime.now(UTC)
    async with db.uow() as uow:
        await uow.session.execute(
            insert(Customer),
            [{"external_id": f"r{n}", "created_at": now_at} for n in range(customers)],
        )
        ids = (await uow.session.scalars(select(Customer.id).order_by(Customer.id))).all()
        await uow.session.execute(
            insert(OutboxMessage),
            [
                {
                    "channel": "telegram",
                    "chat_id": str(20_000 + n),
                    "customer_id": cid,
                    "purpose": "invitation",
                    "body": {"text": f"invitation {n}"},
                    "status": "queued",
                    "created_at": now_at,
                    "deadline": now_at + timedelta(days=7),
                    "attempts": 0,
                }
                for n, cid in enumerate(ids)
            ],
        )
        await uow.commit()
    return [str(20_000 + n) for n in range(customers)]


async def outbox_statuses(db: Database) -> Counter[str]:
    async with db.uow() as uow:
        rows = await uow.session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        )
        return Counter({status: int(n) for status, n in rows.all()})


def deliveries(api: FakeBotApi) -> Counter[str]:
    """How many messages reached each chat."""
    return Counter(call.chat_id for call in api.sent())


def lines_with(log: Path, *secrets: str) -> list[str]:
    """Every line of ``log`` holding one of ``secrets`` (and its token-id-less tail)."""
    found = []
    for line in log.read_text(errors="replace").splitlines():
        if any(secret and secret in line for secret in secrets):
            found.append(line)
    return found
