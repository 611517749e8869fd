"""Dead updates are shown to operators: a line in /kpi, and ``postsale dead-updates``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bot.app import Database
from bot.bootstrap import build_core
from bot.engine.dead_letters import DeadLetters
from tests.builders import T0, Clock
from tests.integration.staff_helpers import OPERATOR, send, staff_settings, texts

ROOT = Path(__file__).resolve().parents[2]
POISON = {"update_id": 41, "message": {"message_id": 1, "date": 0, "text": "x\u00e9"}}


async def keep_two(db: Database) -> None:
    letters = DeadLetters(db, Clock(T0))
    await letters.record("telegram", "41", POISON, "ValueError: cannot handle 'x'")
    await letters.record("telegram", None, {"odd": True}, "KeyError: 'update_id'")


async def test_kpi_tells_operators_how_many_updates_were_given_up_on(
    db: Database, tmp_path: Path
) -> None:
    engine = build_core(db, staff_settings(tmp_path), Clock(T0)).pipeline
    assert "given up on" not in texts(await send(db, engine, OPERATOR, "/kpi"))
    await keep_two(db)
    summary = texts(await send(db, engine, OPERATOR, "/kpi"))
    assert "2 updates given up on: postsale dead-updates lists them" in summary


def dead_updates_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", "dead-updates", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


async def test_postsale_dead_updates_lists_them_newest_first_with_error_and_json(
    tmp_path: Path,
) -> None:
    db = await Database.open(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    try:
        await keep_two(db)
    finally:
        await db.close()

    listed = dead_updates_cli(tmp_path)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0] == "dead updates: 2"
    assert "telegram:None KeyError: 'update_id'" in lines[1]
    assert "telegram:41 ValueError: cannot handle 'x'" in lines[2] and '"text": "xé"' in lines[2]

    whole = dead_updates_cli(tmp_path, "--json", "--limit", "1")
    assert whole.returncode == 0, whole.stderr
    [row] = [json.loads(line) for line in whole.stdout.splitlines()]
    assert (row["update_id"], row["raw"]) == (None, {"odd": True})

    refused = dead_updates_cli(tmp_path, "--limit", "0")
    assert refused.returncode == 2 and "--limit" in refused.stdout
