"""``postsale run``, the terminal chat and the tests' Telegram stack run the same wiring."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bot import bootstrap
from bot.app import Database
from bot.bootstrap import App, Core
from bot.entrypoints import runner
from bot.entrypoints.console import Console
from bot.operators import handle_operator
from tests.builders import Clock
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.telegram_stack import BotStack, telegram_settings


def wiring(core: Core) -> dict[str, Any]:
    """What must be the same however the core was built."""
    pipeline, messenger, scheduler = core.pipeline, core.messenger, core.scheduler
    return {
        "operator commands": pipeline.operator_handler is handle_operator,
        "unhandled events": core.events.unhandled(),
        "one event table": pipeline.events is core.events and messenger.events is core.events,
        "one messenger": pipeline.messenger is messenger and scheduler.messenger is messenger,
        "a link starts a due survey": pipeline.on_linked == scheduler.start_due_of,
        "group commit on SQLite": pipeline.group is not None,
        "fast path": pipeline.unit_of_work != core.db.uow,
    }


def app_wiring(app: App) -> dict[str, Any]:
    sender = app.sender
    return {
        **wiring(app.core),
        "channels": sorted(app.channels),
        "sender sends through them": sender.channels == app.channels,
        "updates wake the sender": sender.wake in app.core.pipeline.on_queued,
        "the scheduler wakes the sender": app.core.scheduler.on_queued == sender.wake,
        "failed updates are kept": all(c.dead_letters is not None for c in app.channels.values()),
    }


EXPECTED = {
    "operator commands": True,
    "unhandled events": [],
    "one event table": True,
    "one messenger": True,
    "a link starts a due survey": True,
    "group commit on SQLite": True,
    "fast path": True,
}


async def started_by_postsale_run(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> tuple[App, int]:
    """Run ``run_bot`` for real, stopping it as soon as it has built its app."""
    built: list[App] = []
    stop = asyncio.Event()

    def build_app(*args: Any, **kwargs: Any) -> App:
        app = bootstrap.build_app(*args, **kwargs)
        built.append(app)
        stop.set()  # start, then stop at once
        return app

    monkeypatch.setattr(runner, "build_app", build_app)
    # Bounded: a runner that no longer builds through the bootstrap would never stop.
    code = await asyncio.wait_for(runner.run_bot(settings, stop), 60)
    return built[0], code


async def test_postsale_run_and_the_test_stack_build_the_same_app(
    api: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'run.db'}"
    settings = telegram_settings(api.url, "aiogram", database_url=url, data_dir=str(tmp_path))  # type: ignore[attr-defined]
    app, code = await started_by_postsale_run(settings, monkeypatch)
    assert code == 0
    db = await Database.open(f"sqlite+aiosqlite:///{tmp_path / 'stack.db'}")
    try:
        stack = BotStack(api, settings, db, Clock())
        assert app_wiring(stack.app) == app_wiring(app)
        assert app_wiring(app) == {
            **EXPECTED,
            "channels": ["telegram"],
            "sender sends through them": True,
            "updates wake the sender": True,
            "the scheduler wakes the sender": True,
            "failed updates are kept": True,
        }
    finally:
        await stack.channel.close()
        await db.close()


async def test_the_terminal_chat_builds_the_same_core(tmp_path: Path) -> None:
    db = await Database.open(f"sqlite+aiosqlite:///{tmp_path / 'console.db'}")
    try:
        console = Console(db, telegram_settings("http://127.0.0.1:9", "aiogram"))
        assert wiring(console.core) == EXPECTED
    finally:
        await db.close()
