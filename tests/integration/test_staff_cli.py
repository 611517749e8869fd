"""``postsale conversations`` (list, show, export) and ``postsale operators``."""

from __future__ import annotations

import argparse
import csv
import io
import json
from pathlib import Path
from types import ModuleType

import pytest

from bot.app import Database
from bot.bootstrap import build_core
from bot.entrypoints.commands import conversations, operators
from bot.settings import Settings
from tests.builders import Clock, customer_with_delivered_order
from tests.integration.staff_helpers import open_complaint, send, staff_settings


def args_of(module: ModuleType, argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    module.add_arguments(parser)
    return parser.parse_args(argv)


async def run(
    module: ModuleType, settings: Settings, capsys: pytest.CaptureFixture[str], *argv: str
) -> tuple[int, str]:
    capsys.readouterr()
    code = await module.run(args_of(module, list(argv)), settings)
    return code, capsys.readouterr().out


async def two_customers_talking(db: Database, settings: Settings) -> None:
    clock = Clock()
    engine = build_core(db, settings, clock).pipeline
    await customer_with_delivered_order(db, "c-1", chat_id="100")
    await customer_with_delivered_order(db, "c-2", chat_id="200")
    await open_complaint(db, engine, "first customer's problem", chat="100")
    clock.advance(days=3)
    await send(db, engine, "200", "hello from c-2")


async def test_conversations_are_listed_shown_and_filtered(
    db: Database, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = staff_settings(tmp_path, database_url=db_url, default_timezone="UTC")
    await two_customers_talking(db, settings)

    code, out = await run(conversations, settings, capsys, "list")
    assert code == 0
    lines = out.splitlines()[1:]
    assert [line.split("\t")[2] for line in lines] == ["c-2", "c-1"]  # the newest first
    _, only = await run(conversations, settings, capsys, "list", "--customer", "c-1")
    assert len(only.splitlines()) == 2 and "\tc-1\t" in only
    _, complaint = await run(conversations, settings, capsys, "list", "--flow", "complaint")
    assert "\tc-1\t" in complaint and "c-2" not in complaint
    _, early = await run(conversations, settings, capsys, "list", "--until", "2026-03-11")
    assert "c-1" in early and "c-2" not in early
    _, late = await run(conversations, settings, capsys, "list", "--since", "2026-03-12")
    assert "c-2" in late and "c-1" not in late

    conversation_id = lines[1].split("\t")[0]
    code, shown = await run(conversations, settings, capsys, "show", conversation_id)
    assert code == 0 and "customer c-1" in shown
    assert "-> [complaint] first customer's problem" in shown
    assert "<- " in shown  # the bot's answers too
    code, _ = await run(conversations, settings, capsys, "show", "99999")
    assert code == 1


async def test_export_streams_jsonl_and_csv_with_the_same_rows(
    db: Database, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = staff_settings(tmp_path, database_url=db_url, default_timezone="UTC")
    await two_customers_talking(db, settings)
    out_file = tmp_path / "export.csv"

    code, jsonl = await run(conversations, settings, capsys, "export", "--format", "jsonl")
    assert code == 0
    rows = [json.loads(line) for line in jsonl.splitlines()]
    await run(conversations, settings, capsys, "export", "--format", "csv", "--out", str(out_file))
    with io.StringIO(read(out_file)) as fh:
        table = list(csv.DictReader(fh))

    assert len(rows) == len(table) > 5
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)
    assert [str(r["id"]) for r in rows] == [r["id"] for r in table]
    assert {r["customer"] for r in rows} == {"c-1", "c-2"}
    assert any(r["text"] == "hello from c-2" and r["direction"] == "in" for r in rows)
    _, only = await run(conversations, settings, capsys, "export", "--customer", "c-2")
    assert {json.loads(line)["customer"] for line in only.splitlines()} == {"c-2"}


async def test_a_csv_export_writes_a_formula_a_customer_typed_as_text(
    db: Database, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = staff_settings(tmp_path, database_url=db_url, default_timezone="UTC")
    engine = build_core(db, settings, Clock()).pipeline
    await customer_with_delivered_order(db, "c-1", chat_id="100")
    formula = '=HYPERLINK("http://evil.example","open me")'
    await send(db, engine, "100", formula)
    out_file = tmp_path / "export.csv"

    await run(conversations, settings, capsys, "export", "--format", "csv", "--out", str(out_file))
    _, jsonl = await run(conversations, settings, capsys, "export", "--format", "jsonl")

    with io.StringIO(read(out_file)) as fh:
        texts = [r["text"] for r in csv.DictReader(fh)]
    assert "'" + formula in texts and formula not in texts
    assert formula in [json.loads(line)["text"] for line in jsonl.splitlines()]


def read(path: Path) -> str:
    return path.read_text("utf-8")


async def test_operators_are_added_listed_and_removed_from_the_command_line(
    db: Database, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = staff_settings(tmp_path, database_url=db_url)
    code, out = await run(operators, settings, capsys, "add", "42", "--admin", "--name", "Bia")
    assert (code, out.strip()) == (0, "added 42 as admin")
    code, out = await run(operators, settings, capsys, "add", "43")
    _, listed = await run(operators, settings, capsys, "list")
    assert listed.splitlines() == [
        "42\tadmin\tBia\ttable",
        "43\toperator\t-\ttable",
        "900\toperator\t-\tsettings",
        "901\tadmin\t-\tsettings",
    ]
    code, out = await run(operators, settings, capsys, "remove", "43")
    assert (code, out.strip()) == (0, "removed 43")
    code, _ = await run(operators, settings, capsys, "remove", "900")  # from the settings
    assert code == 1
    # The chat sees the change: 42 is an admin now.
    engine = build_core(db, settings, Clock()).pipeline
    assert "Operators and admins" in str(await send(db, engine, "42", "/operators"))
