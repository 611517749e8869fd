"""One harness per channel: the outside world of a channel, as the contract suite sees it.

A harness feeds the channel what a person would do (type, press, send media), and
reads back what reached the person (``shown``). The contract tests speak only to this
interface; the next channel (WhatsApp) passes them by adding a harness here and its
name to ``HARNESSES``.
"""

from __future__ import annotations

import asyncio
import io
import queue
import re
from dataclasses import dataclass, field
from typing import Any

from bot.channels.console import ConsoleChannel
from bot.channels.port import Channel, Incoming, OutButton, Outgoing
from bot.channels.telegram.factory import TelegramChannel, build_telegram_channel
from flows.events import Event, MediaIn
from tests.fakes import updates as tg
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.telegram_stack import telegram_settings

WAIT = 10.0  # seconds an update may take to come through


@dataclass
class Shown:
    """One message as the person sees it."""

    text: str = ""
    buttons: list[list[str]] = field(default_factory=list)  # labels, row by row
    file: str | None = None  # the name of the file it carries


class Harness:
    """What every channel's harness offers the contract tests."""

    name: str
    channel: Channel
    chat: str  # a private chat
    user: str  # the person who writes in it
    group_chat: str | None = None  # a group chat id, when the channel has groups
    has_server = False  # whether the channel talks to a server that can refuse (``fail``)

    def __init__(self) -> None:
        self.received: list[Incoming] = []
        self._arrived = asyncio.Event()
        self._read = 0  # how many of ``received`` ``next_incoming`` gave out

    async def handle(self, incoming: Incoming) -> None:
        self.received.append(incoming)
        self._arrived.set()

    async def next_incoming(self, within: float = WAIT) -> Incoming:
        """The next update the channel hands over (``TimeoutError`` when none comes)."""
        async with asyncio.timeout(within):
            while len(self.received) <= self._read:
                self._arrived.clear()
                await self._arrived.wait()
        self._read += 1
        return self.received[self._read - 1]

    async def start(self) -> None: ...
    async def close(self) -> None: ...
    async def type_text(self, text: str) -> None: ...
    async def press(self, label: str, data: str) -> None: ...
    async def send_media(self) -> Event: ...

    async def edit_message(self) -> Event | None:
        """The person edits a sent message; the event it makes (None: no edits here)."""
        return None

    def shown(self) -> list[Shown]: ...

    def fail_next_send(self, status: int, retry_after: int | None = None) -> None:
        raise NotImplementedError

    def acknowledged(self) -> list[str]:
        return []

    def routed(self) -> Any | None:
        """The channel set up to receive through HTTP routes (None: it has none)."""
        return None


class ConsoleHarness(Harness):
    """The terminal: lines go in through a queue, the screen is a string."""

    name = "console"
    chat, user = "customer", "console-customer"

    def __init__(self) -> None:
        super().__init__()
        self.lines: queue.Queue[str] = queue.Queue()
        self.screen = io.StringIO()
        self.console = ConsoleChannel(self.handle, read_line=self.lines.get, out=self.screen)
        self.channel = self.console

    async def start(self) -> None:
        await self.console.start()

    async def close(self) -> None:
        await self.console.stop()
        self.lines.put("")  # the reading thread, if still waiting, may finish

    async def type_text(self, text: str) -> None:
        self.lines.put(text + "\n")

    async def press(self, label: str, data: str) -> None:
        await self.console.send(
            Outgoing(self.chat, "Pick one", buttons=((OutButton(label, data),),))
        )
        await self.type_text("#1")

    async def send_media(self) -> Event:
        await self.type_text(":photo")
        return MediaIn("photo")

    def shown(self) -> list[Shown]:
        found: list[Shown] = []
        for raw in self.screen.getvalue().splitlines():
            line = re.sub(r"^(?:(?:customer|operator)> )+", "", raw)
            said = re.match(r"^bot(?: \(to \S+\))?> (.*)$", line)
            keys = re.match(r"^ {5}(\[#1\] .*)$", line)
            if said and said.group(1).startswith("[file] "):
                found.append(Shown(file=said.group(1)[len("[file] ") :].rsplit("/", 1)[-1]))
            elif said:
                found.append(Shown(text=said.group(1)))
            elif keys and found:
                found[-1].buttons = [re.split(r"\s*\[#\d+\] ", keys.group(1))[1:]]
        return found


class TelegramHarness(Harness):
    """A Telegram adapter polling the fake Bot API server over loopback HTTP."""

    name = "telegram"
    chat = user = "4242"
    group_chat = "-100777"
    has_server = True

    def __init__(self, framework: str) -> None:
        super().__init__()
        self.framework = framework
        self.api = FakeBotApi()
        self.telegram: TelegramChannel | None = None
        self.hooked: TelegramChannel | None = None

    async def start(self) -> None:
        url = await self.api.start()
        settings = telegram_settings(url, self.framework)
        self.telegram = build_telegram_channel(settings, self.handle, poll_timeout=1.0)
        self.channel = self.telegram
        await self.telegram.start()

    async def close(self) -> None:
        if self.telegram is not None:
            await self.telegram.stop()
            await self.telegram.close()
        if self.hooked is not None:
            await self.hooked.close()
        await self.api.close()

    async def type_text(self, text: str) -> None:
        await self.api.inject(tg.message(int(self.chat), text))

    async def press(self, label: str, data: str) -> None:
        keyboard = {"inline_keyboard": [[{"text": label, "callback_data": data}]]}
        asked = tg.callback(int(self.chat), data)["callback_query"]["message"]
        await self.api.inject(tg.press({**asked, "reply_markup": keyboard}, data))

    async def send_media(self) -> Event:
        await self.api.inject(tg.photo(int(self.chat)))
        return MediaIn("photo")

    async def edit_message(self) -> Event | None:
        await self.api.inject(tg.edited_message(int(self.chat), "fixed typo"))
        return MediaIn("edited")

    def shown(self) -> list[Shown]:
        found = []
        for (chat, _), message in sorted(self.api.messages.items(), key=lambda kv: kv[0][1]):
            if chat == self.chat:
                found.append(_shown(message))
        return found

    def fail_next_send(self, status: int, retry_after: int | None = None) -> None:
        self.api.fail("sendMessage", status, f"HTTP {status}", retry_after=retry_after)

    def acknowledged(self) -> list[str]:
        return [str(c.params["callback_query_id"]) for c in self.api.of("answerCallbackQuery")]

    def routed(self) -> Any | None:
        """The webhook mode: ``WEBHOOK_URL`` and ``WEBHOOK_SECRET`` set (not started)."""
        settings = telegram_settings(
            "http://127.0.0.1:9",
            self.framework,
            webhook_url="https://bot.example.test/tg/hook",
            webhook_secret="contract-secret",
        )
        self.hooked = build_telegram_channel(settings, self.handle)
        return self.hooked


def _shown(message: dict[str, Any]) -> Shown:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    document = message.get("document") or {}
    return Shown(
        text=str(message.get("text") or message.get("caption") or ""),
        buttons=[[str(b["text"]) for b in row] for row in rows],
        file=document.get("file_name") or ("photo" if message.get("photo") else None),
    )


HARNESSES = {
    "console": ConsoleHarness,
    "aiogram": lambda: TelegramHarness("aiogram"),
    "ptb": lambda: TelegramHarness("ptb"),
}
