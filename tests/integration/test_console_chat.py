"""The terminal chat in-process: the console is a channel, and the outbox sender prints."""

from __future__ import annotations

import io
import re
from pathlib import Path

from sqlalchemy import select

from bot.app import Database
from bot.entrypoints.console import Console
from bot.settings import Settings
from storage.models import OutboxMessage


def is_file(path: str) -> bool:
    return Path(path).is_file()


def scripted(lines: list[str]) -> object:
    left = [line + "\n" for line in lines]
    return lambda: left.pop(0) if left else ""


async def chat(db: Database, tmp_path: Path, lines: list[str]) -> str:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, default_locale="en", data_dir=str(tmp_path / "files")
    )
    screen = io.StringIO()
    console = Console(db, settings, out=screen, read_line=scripted(lines))  # type: ignore[arg-type]
    await console.run()
    return screen.getvalue()


async def test_every_message_reaches_the_screen_through_the_outbox_sender(
    sqlite_db: Database, tmp_path: Path
) -> None:
    screen = await chat(sqlite_db, tmp_path, ["#10", "Arrived early", "/operator", "/quit"])
    assert "bot> " in screen and "[#11] 10" in screen  # the invitation's NPS buttons
    async with sqlite_db.uow() as uow:
        rows = list(await uow.session.scalars(select(OutboxMessage)))
    assert rows and {(r.channel, r.status) for r in rows} == {("console", "sent")}
    assert all(r.sent_at is not None and r.attempts == 1 for r in rows)
    # Each answer is on the screen before the next prompt: the invitation before the
    # first, the score's follow-up question (with Skip) before the second.
    prompts = [m.start() for m in re.finditer(r"customer> ", screen)]
    assert len(prompts) == 3
    assert screen.index("[#11] 10") < prompts[0] < screen.index("[#1] Skip") < prompts[1]


async def test_an_export_is_shown_by_its_path_and_kept_for_the_sweep(
    sqlite_db: Database, tmp_path: Path
) -> None:
    screen = await chat(sqlite_db, tmp_path, ["/mydata", "/quit"])
    [path] = re.findall(r"\[file\] (\S+)", screen)
    assert is_file(path)
    assert Path(path).is_relative_to(tmp_path / "files")


async def test_operators_alerts_reach_the_consoles_operator_chat(
    sqlite_db: Database, tmp_path: Path
) -> None:
    lines = ["#1", "/problem", "#1", "The mug arrived broken", "/operator", "/quit"]
    screen = await chat(sqlite_db, tmp_path, lines)
    assert re.search(r"bot \(to operator\)> .*ticket #\d+", screen, re.IGNORECASE)
    async with sqlite_db.uow() as uow:
        alerts = list(
            await uow.session.scalars(
                select(OutboxMessage).where(OutboxMessage.purpose == "ticket")
            )
        )
    assert {(a.channel, a.chat_id) for a in alerts} == {("console", "operator")}
