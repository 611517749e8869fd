"""``postsale run`` runs every channel the registry gives it, side by side, in one process."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.channels.port import Capabilities, ChannelLimits, Incoming, Outgoing, UpdateHandler
from bot.channels.registry import enabled_factories
from bot.entrypoints import runner
from bot.settings import Settings
from flows.events import CommandIn
from tests.fakes import updates
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.telegram_stack import telegram_settings

STARTED = asyncio.Event()  # a notebook started (set once; one test uses it)


class Notebook:
    """A second channel of the test's own: it writes down what happens to it."""

    name = "notebook"
    limits = ChannelLimits(global_rate=100.0, per_chat_rate=100.0)
    capabilities = Capabilities(buttons_per_message=10, buttons_per_row=5)

    def __init__(self, handle: UpdateHandler) -> None:
        self.handle = handle
        self.events: list[str] = []
        self.sent: list[Outgoing] = []
        self.answered = asyncio.Event()

    def is_group(self, chat_id: str) -> bool:
        return False

    async def open(self) -> None:
        self.events.append("open")

    async def start(self) -> None:
        self.events.append("start")
        STARTED.set()

    async def send(self, message: Outgoing) -> str:
        self.sent.append(message)
        self.answered.set()
        return str(len(self.sent))

    async def stop(self) -> None:
        self.events.append("stop")

    async def close(self) -> None:
        self.events.append("close")


def with_notebook(
    notebooks: list[Notebook],
) -> Callable[..., dict[str, Callable[[Settings, UpdateHandler], Any]]]:
    def factories(settings: Settings, options: Any = None, **kwargs: Any) -> dict[str, Any]:
        given = enabled_factories(settings, options, **kwargs)

        def notebook(settings: Settings, handle: UpdateHandler) -> Notebook:
            notebooks.append(Notebook(handle))
            return notebooks[-1]

        return {**given, "notebook": notebook}

    return factories


async def test_two_channels_run_side_by_side_and_each_answers_on_its_own(
    api: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notebooks: list[Notebook] = []
    monkeypatch.setattr(runner, "enabled_factories", with_notebook(notebooks))
    url = f"sqlite+aiosqlite:///{tmp_path / 'two.db'}"
    settings = telegram_settings(api.url, "aiogram", database_url=url, data_dir=str(tmp_path))
    stop = asyncio.Event()
    running = asyncio.create_task(runner.run_bot(settings, stop))
    try:
        await asyncio.wait_for(STARTED.wait(), 30)
        [notebook] = notebooks
        incoming = Incoming(
            channel="notebook",
            update_id="n-1",
            chat_id="reader",
            user_id="reader",
            chat_type="private",
            event=CommandIn("help"),
        )
        await notebook.handle(incoming)
        await api.inject(updates.message(501, "/help"))  # the Telegram channel beside it
        await asyncio.wait_for(notebook.answered.wait(), 30)
        await api.wait_until(lambda: bool(api.sent("501")), within=30)
    finally:
        stop.set()
        code = await asyncio.wait_for(running, 60)
    assert code == 0
    assert notebook.events == ["open", "start", "stop", "close"]
    assert [m.chat_id for m in notebook.sent] == ["reader"]
    assert "/help" in notebook.sent[0].text
    assert [call.chat_id for call in api.sent()] == ["501"]  # nothing of the notebook's
