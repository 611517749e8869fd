"""The terminal chat, as a newcomer meets it: a real process fed through standard input."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_console(tmp_path: Path, lines: list[str]) -> str:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'console.db'}",
        "DATA_DIR": str(tmp_path / "files"),
        "DEFAULT_LOCALE": "en",
        "BOT_TOKEN": "",
        "LOG_LEVEL": "WARNING",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_demo_customer_answers_the_survey_and_the_operator_sees_kpis(tmp_path: Path) -> None:
    out = run_console(
        tmp_path,
        [
            "#10",  # NPS buttons are 0..10: the tenth is 9
            "Arrived early",
            "#5",  # CSAT 5
            "/operator",
            "/kpi",
            "/customer",
            "/quit",
        ],
    )
    assert "bot>" in out
    assert "(you are now the operator)" in out
    assert "NPS" in out  # the /kpi summary
    db = sqlite3.connect(tmp_path / "console.db")
    answers = sorted(db.execute("select kind, score, reason from survey_responses").fetchall())
    assert answers == [("csat", 5, None), ("nps", 9, "Arrived early")]


def test_running_it_again_keeps_the_conversation_and_asks_no_second_survey(
    tmp_path: Path,
) -> None:
    run_console(tmp_path, ["#1", "/quit"])  # NPS 0: a detractor
    out = run_console(tmp_path, ["/quit"])
    db = sqlite3.connect(tmp_path / "console.db")
    assert db.execute("select count(*) from followups").fetchone() == (1,)
    assert db.execute("select count(*) from survey_responses").fetchone() == (1,)
    assert "bye" in out
