"""One harness per channel: the outside world of a channel, as the contract suite sees it.

A harness feeds the channel what a person would do (type, press, send media), and
reads back what reached the person (``shown``). The contract tests speak only to this
interface; the next channel (WhatsApp) passes them by adding a harness here and its
name to ``HARNESSES`` (as WhatsApp did).
"""

from __future__ import annotations

import asyncio
import io
import queue
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestServer

from bot.channels.console import ConsoleChannel
from bot.channels.port import Channel, Incoming, OutButton, Outgoing
from bot.channels.telegram.factory import TelegramChannel, build_telegram_channel
from bot.channels.whatsapp.factory import WhatsAppChannel, build_whatsapp_channel
from bot.channels.whatsapp.window import ChatWindow
from bot.entrypoints.http.app import build_app, channel_routes
from bot.settings import Settings
from flows.events import Event, MediaIn
from tests.fakes import updates as tg
from tests.fakes import wa_updates as wa
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.cloud_api import APP_SECRET, VERIFY_TOKEN, FakeCloudApi, WebhookPoster
from tests.fakes.cloud_api import TOKEN as CLOUD_TOKEN
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
    # whether a refusal's wait is the server's own (Telegram's retry_after); WhatsApp's
    # error objects carry none, so the channel waits a time of its own per code
    server_says_wait = True

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


class WhatsAppHarness(Harness):
    """The WhatsApp channel: its routes served over loopback HTTP (Meta's webhook posts
    played by ``WebhookPoster``), sending to the fake Cloud API.

    The customer wrote a minute ago (the storage lookup says so, and Meta's fake
    knows), so free-form messages may go: the window's other side is
    tests/integration/test_whatsapp_channel.py's.
    """

    name = "whatsapp"
    chat = user = "5511987654321"
    has_server = True
    server_says_wait = False

    def __init__(self) -> None:
        super().__init__()
        self.api = FakeCloudApi()
        self.whatsapp: WhatsAppChannel | None = None
        self.server: TestServer | None = None
        self.meta: WebhookPoster | None = None

    async def start(self) -> None:
        url = await self.api.start()
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            whatsapp_token=CLOUD_TOKEN,
            whatsapp_phone_number_id=wa.PHONE_NUMBER_ID,
            whatsapp_app_secret=APP_SECRET,
            whatsapp_verify_token=VERIFY_TOKEN,
            whatsapp_api_url=url,
            default_locale="en",
        )
        self.whatsapp = build_whatsapp_channel(settings, self.handle, retry_delay=0.01)
        self.channel = self.whatsapp
        wrote = datetime.now(UTC) - timedelta(minutes=1)

        async def window(chat: str) -> ChatWindow:
            return ChatWindow(wrote, "en")

        self.whatsapp.chat_window = window
        self.api.saw_inbound(self.chat, wrote)
        # The bot's own HTTP app; the database is never reached (INGEST_SECRET unset).
        app = build_app(settings, None, channel_routes({"whatsapp": self.whatsapp}))  # type: ignore[arg-type]
        self.server = TestServer(app, host="127.0.0.1", port=0)
        await self.server.start_server()
        hook = f"http://127.0.0.1:{self.server.port}/whatsapp"
        self.meta = WebhookPoster(hook, api=self.api)
        await self.whatsapp.start()

    async def close(self) -> None:
        if self.whatsapp is not None:
            await self.whatsapp.stop()
            await self.whatsapp.close()
        if self.server is not None:
            await self.server.close()
        await self.api.close()

    async def _post(self, value: dict[str, Any]) -> None:
        assert self.meta is not None
        await self.meta.post(value)

    async def type_text(self, text: str) -> None:
        await self._post(wa.text(self.chat, text))

    async def press(self, label: str, data: str) -> None:
        await self._post(wa.button_reply(self.chat, data, label, context=wa.wamid()))

    async def send_media(self) -> Event:
        await self._post(wa.media(self.chat, "image"))
        return MediaIn("photo")

    def shown(self) -> list[Shown]:
        return [_wa_shown(m) for m in self.api.messages(self.chat)]

    def fail_next_send(self, status: int, retry_after: int | None = None) -> None:
        codes = {429: 130429, 403: 131026, 500: 131000, 400: 100}
        self.api.fail_next(codes[status])

    def routed(self) -> Any | None:
        return self.whatsapp


def _wa_shown(message: dict[str, Any]) -> Shown:
    kind = message["type"]
    content = message[kind]
    if kind == "text":
        return Shown(text=content["body"])
    if kind == "interactive":
        action = content["action"]
        if content["type"] == "button":
            labels = [b["reply"]["title"] for b in action["buttons"]]
        else:
            labels = [r["title"] for section in action["sections"] for r in section["rows"]]
        return Shown(text=content["body"]["text"], buttons=[labels])
    if kind in ("image", "document"):
        name = content.get("filename") or "photo"
        return Shown(text=content.get("caption", ""), file=name)
    return Shown(text=f"[{kind}] {content.get('name', '')}")


HARNESSES = {
    "console": ConsoleHarness,
    "aiogram": lambda: TelegramHarness("aiogram"),
    "ptb": lambda: TelegramHarness("ptb"),
    "whatsapp": WhatsAppHarness,
}
