"""The terminal chat, as a newcomer meets it: a real process fed through standard input."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_console(tmp_path: Path, lines: list[str]) -> str:
    return run_process(tmp_path, lines).stdout


def run_process(
    tmp_path: Path, lines: list[str], log_level: str = "WARNING"
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'console.db'}",
        "DATA_DIR": str(tmp_path / "files"),
        "DEFAULT_LOCALE": "en",
        "BOT_TOKEN": "",
        "LOG_LEVEL": log_level,
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
    return done


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


def test_log_lines_go_to_a_file_not_into_the_chat(tmp_path: Path) -> None:
    done = run_process(tmp_path, ["#10", "/quit"], log_level="INFO")
    screen = done.stdout + done.stderr
    assert "bot>" in screen
    assert " INFO " not in screen and "INFO " not in done.stderr
    logged = (tmp_path / "files" / "console.log").read_text()
    assert " INFO " in logged


def test_transcripts_show_the_label_of_the_button_pressed(tmp_path: Path) -> None:
    run_console(tmp_path, ["#10", "/quit"])  # NPS 9
    db = sqlite3.connect(tmp_path / "console.db")
    lines = [t for (t,) in db.execute("select text from messages where direction = 'in'")]
    assert "[button] 9" in lines
    assert not [line for line in lines if line.startswith("[button] nps:")]
