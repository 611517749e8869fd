"""`postsale run` and the terminal chat delete /mydata files older than EXPORT_TTL at start."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

from bot.app import Database
from tests.e2e.test_console import run_console
from tests.fakes.bot_api import TOKEN, FakeBotApi

ROOT = Path(__file__).resolve().parents[2]


def stale_and_fresh_exports(folder: Path) -> tuple[Path, Path]:
    """Two exports in ``folder``: one written two hours ago, one just now."""
    folder.mkdir(parents=True)
    stale, fresh = folder / "mydata-1-stale.json", folder / "mydata-2-fresh.json"
    for path in (stale, fresh):
        path.write_text('{"customer": {"name": "Ana Souza"}}')
    two_hours_ago = time.time() - 2 * 3600
    os.utime(stale, (two_hours_ago, two_hours_ago))
    return stale, fresh


async def test_postsale_run_deletes_stale_export_files_at_start_up_and_keeps_fresh_ones(
    tmp_path: Path,
) -> None:
    stale, fresh = stale_and_fresh_exports(tmp_path / "files" / "exports")
    url = f"sqlite+aiosqlite:///{tmp_path / 'postsale.db'}"
    await (await Database.open(url)).close()  # the schema, before the process starts
    api = FakeBotApi()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DATA_DIR": str(tmp_path / "files"),
        "EXPORT_TTL": "1h",
        "TELEGRAM_API_URL": await api.start(),
        "BOT_TOKEN": TOKEN,
        "LOG_LEVEL": "WARNING",
        "WEBHOOK_URL": "",
        "INGEST_SECRET": "",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=ROOT, env=env
    )
    try:
        async with asyncio.timeout(60):
            while stale.exists():  # noqa: ASYNC110 - another process deletes it
                await asyncio.sleep(0.1)
        assert fresh.exists()
    finally:
        process.send_signal(signal.SIGTERM)
        assert await process.wait() == 0
        await api.close()


def test_the_terminal_chat_deletes_stale_export_files_as_it_opens(tmp_path: Path) -> None:
    stale, fresh = stale_and_fresh_exports(tmp_path / "files" / "exports")

    run_console(tmp_path, ["/quit"])  # DATA_DIR is tmp_path/files, EXPORT_TTL the 1h default

    assert (stale.exists(), fresh.exists()) == (False, True)
