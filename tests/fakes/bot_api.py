"""A fake Telegram Bot API server on loopback: the real libraries talk HTTP to it.

It speaks the JSON shapes of the methods the bot uses (``getMe``, ``getUpdates`` with
long polling and offset confirmation, ``sendMessage``, ``sendPhoto`` and
``sendDocument`` (multipart), ``answerCallbackQuery``, ``editMessageText``,
``editMessageReplyMarkup``, ``setMyCommands``, ``setWebhook``, ``deleteWebhook``,
``sendChatAction``), answers 429 with ``parameters.retry_after`` when configured
limits are exceeded or a failure is scripted, and records every call. Several bots
(tokens) may share one server: each token has its own update queue. Given the bots'
``tokens``, it answers any other token 401 Unauthorized, as Telegram does. Fault modes:
``ignores_timeout`` answers an empty ``getUpdates`` at once (as some proxies and
emulators do), ``inject`` queues any JSON, readable by the libraries or not, and
``fault`` plays an outage (for a while or a number of calls): 500s, requests held
unanswered, dropped connections, an unreadable answer, or a delivery whose answer is
lost or unreadable.

Tests put updates in with ``inject`` (``tests.fakes.updates`` builds the JSON, and is
re-exported here) and wait for
what they expect with ``wait_until`` (woken by each call, no sleeping).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections import defaultdict, deque
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.fakes.updates import (
    BOT_ID,
    callback,
    channel_post,
    chat,
    contact,
    edited_message,
    group_message,
    message,
    photo,
    press,
    sticker,
    unknown_kind,
    unreadable_callback,
    unreadable_message,
    user,
)

__all__ = [
    "TOKEN",
    "Call",
    "FakeBotApi",
    "callback",
    "press",
    "channel_post",
    "chat",
    "contact",
    "edited_message",
    "group_message",
    "message",
    "photo",
    "sticker",
    "unknown_kind",
    "unreadable_callback",
    "unreadable_message",
    "user",
]

TOKEN = "123456:TEST-TOKEN"
JSON_PARAMS = {"reply_markup", "allowed_updates", "commands", "scope", "entities"}
SENDS = {"sendMessage", "sendPhoto", "sendDocument"}
EDITS = {"editMessageReplyMarkup"}


@dataclass
class Call:
    """One request the server received."""

    token: str
    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    at: float = 0.0

    @property
    def chat_id(self) -> str:
        return str(self.params.get("chat_id", ""))

    @property
    def text(self) -> str:
        return str(self.params.get("text") or self.params.get("caption") or "")

    @property
    def markup(self) -> dict[str, Any]:
        value = self.params.get("reply_markup") or {}
        return value if isinstance(value, dict) else {}

    @property
    def callback_data(self) -> list[str]:
        rows = self.markup.get("inline_keyboard") or []
        return [b["callback_data"] for row in rows for b in row]


@dataclass
class Failure:
    method: str
    status: int
    description: str
    retry_after: int | None
    chat_id: str | None
    times: int


FAULTS = ("error", "bad_gateway", "timeout", "drop", "garbage", "lost_answer", "bad_date")
"""``error``: HTTP 500; ``bad_gateway``: a proxy's 502 page (HTML); ``timeout``: held,
never answered; ``drop``: the connection closed unanswered; ``garbage``: HTTP 200 with
an HTML page (none of these deliver); ``lost_answer``: delivered, then the connection
closed; ``bad_date``: delivered, the answer's ``date`` unreadable."""


@dataclass
class Fault:
    kind: str
    methods: frozenset[str]
    until: float | None  # time.monotonic() it ends at; None: after ``times`` calls
    times: int
    chat_id: str | None

    def applies(self, call: Call, now: float) -> bool:
        if call.method not in self.methods:
            return False
        if self.chat_id is not None and call.chat_id != self.chat_id:
            return False
        return now < self.until if self.until is not None else self.times > 0


@dataclass
class _Bot:
    updates: list[dict[str, Any]] = field(default_factory=list)
    confirmed: int = 0  # the highest offset a getUpdates confirmed
    served_at: float | None = None  # when getUpdates first returned updates
    webhook: dict[str, Any] | None = None


class FakeBotApi:
    """The server; ``await start()`` gives its base URL (``TELEGRAM_API_URL``)."""

    def __init__(
        self,
        *,
        limits: tuple[float, float] | None = None,
        username: str = "postsale_test_bot",
        tokens: Collection[str] | None = None,
    ) -> None:
        self.limits = limits  # (sends a second overall, sends a second per chat)
        self.tokens = None if tokens is None else set(tokens)  # None: every token is a bot
        self.username = username
        self.calls: list[Call] = []
        self.arrived: list[Call] = []  # the sends that reached the chat
        self.failures: list[Failure] = []
        self.faults: list[Fault] = []
        self.too_many = 0
        self.record = True  # benchmarks turn the call log off and count sends instead
        self.ignores_timeout = False  # answer an empty long poll at once
        self.sends: dict[str, int] = defaultdict(int)  # by token
        self.last_send_at: dict[str, float] = {}
        self._bots: dict[str, _Bot] = defaultdict(_Bot)
        # the messages sent, by (chat id, message id), as Telegram holds them (edits too)
        self.messages: dict[tuple[str, int], dict[str, Any]] = {}
        self._changed = asyncio.Condition()
        self._ids = itertools.count(1)
        self._update_ids = itertools.count(100_000)
        self._recent: deque[float] = deque()
        self._last: dict[str, float] = {}
        self._closing = False
        self._server: TestServer | None = None

    # -- running -----------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._dispatch)
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server()
        return str(self._server.make_url("")).rstrip("/")

    async def close(self) -> None:
        self._closing = True
        await self._notify()  # long polls return at once
        if self._server is not None:
            await self._server.close()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # -- what tests use ----------------------------------------------------------------

    async def inject(self, *updates: dict[str, Any], token: str | None = None) -> list[int]:
        """Queue updates for ``getUpdates`` (ids given in order when missing)."""
        ids = []
        for update in updates:
            update.setdefault("update_id", next(self._update_ids))
            ids.append(update["update_id"])
            self._bot(token).updates.append(update)
        await self._notify()
        return ids

    def next_update_id(self) -> int:
        return next(self._update_ids)

    def fail(
        self,
        method: str,
        status: int,
        description: str,
        *,
        retry_after: int | None = None,
        chat_id: str | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (to ``chat_id``) with an error."""
        self.failures.append(Failure(method, status, description, retry_after, chat_id, times))

    def fault(
        self,
        kind: str,
        *,
        seconds: float | None = None,
        times: int = 1,
        methods: set[str] | None = None,
        chat_id: str | None = None,
    ) -> None:
        """Play ``kind`` (see ``FAULTS``) on the sends and ``getMe`` (or ``methods``),
        for ``seconds`` from now, or else on the next ``times`` calls."""
        assert kind in FAULTS, kind
        until = time.monotonic() + seconds if seconds is not None else None
        chosen = frozenset(methods or SENDS | {"getMe"})
        self.faults.append(Fault(kind, chosen, until, times, chat_id))

    def delivered_texts(self, chat_id: str) -> list[str]:
        return [c.text for c in self.arrived if c.chat_id == chat_id]

    async def wait_until(self, condition: Callable[[], bool], within: float = 10.0) -> None:
        """Wait until ``condition()`` holds (checked after every call the server gets)."""
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(condition)

    def of(self, method: str, chat_id: str | None = None) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.method == method and (chat_id is None or c.chat_id == str(chat_id))
        ]

    def sent(self, chat_id: str | None = None) -> list[Call]:
        """Every message sent (any of the send methods), oldest first."""
        return [
            c for c in self.calls if c.method in SENDS and (chat_id is None or c.chat_id == chat_id)
        ]

    def delivered(self) -> int:
        """How many outbox rows reached the server: sends and keyboard edits."""
        return sum(1 for c in self.calls if c.method in SENDS or c.method in EDITS)

    def texts(self, chat_id: str) -> list[str]:
        return [c.text for c in self.sent(chat_id)]

    def pending(self, token: str | None = None) -> list[dict[str, Any]]:
        """Updates not yet confirmed by a ``getUpdates`` offset."""
        bot = self._bot(token)
        return [u for u in bot.updates if u["update_id"] >= bot.confirmed]

    def confirmed(self, token: str | None = None) -> int:
        return self._bot(token).confirmed

    def served_at(self, token: str | None = None) -> float | None:
        return self._bot(token).served_at

    def webhook(self, token: str | None = None) -> dict[str, Any] | None:
        return self._bot(token).webhook

    def _bot(self, token: str | None) -> _Bot:
        return self._bots[token or TOKEN]

    # -- the HTTP side -----------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.Response:
        token, method = request.match_info["token"], request.match_info["method"]
        params, files = await _read_params(request)
        call = Call(token, method, params, files, time.monotonic())
        if self.record:
            self.calls.append(call)
        await self._notify()  # waiters see the call even while a long poll is held
        try:
            fault = self._fault(call)
            if fault is not None:
                return await self._play(fault, call, request)
            return await self._answer(call)
        finally:
            await self._notify()

    def _fault(self, call: Call) -> Fault | None:
        now = time.monotonic()
        for fault in self.faults:
            if fault.applies(call, now):
                fault.times -= 1
                return fault
        return None

    async def _play(self, fault: Fault, call: Call, request: web.Request) -> web.Response:
        if fault.kind == "error":
            return _error(500, "Internal Server Error")
        if fault.kind == "bad_gateway":
            return web.Response(status=502, text="<html>502</html>", content_type="text/html")
        if fault.kind == "garbage":
            return web.Response(text="<html>502 upstream</html>", content_type="text/html")
        if fault.kind == "timeout":
            with contextlib.suppress(TimeoutError):  # until the client gives up
                await self.wait_until(lambda: self._closing, within=30)
            return _error(504, "Gateway Timeout")
        if fault.kind == "bad_date":
            answer = await self._answer(call)
            assert answer.text is not None
            body = json.loads(answer.text)
            body["result"]["date"] = "yesterday"
            return web.json_response(body)
        if fault.kind == "lost_answer":
            await self._answer(call)
        assert request.transport is not None
        request.transport.close()  # drop / lost_answer: no answer at all
        return web.Response()

    async def _answer(self, call: Call) -> web.Response:
        if self.tokens is not None and call.token not in self.tokens:
            return _error(401, "Unauthorized")
        failure = self._scripted(call)
        if failure is not None:
            return failure
        if call.method in SENDS and self.limits is not None and self._over_limit(call.chat_id):
            self.too_many += 1
            return _error(429, "Too Many Requests: retry after 1", retry_after=1)
        handler = getattr(self, f"_m_{call.method}", None)
        if handler is None:
            return _error(404, "Not Found")
        result: Any = await handler(call)
        if isinstance(result, web.Response):  # the method's own error answer
            return result
        return web.json_response({"ok": True, "result": result})

    def _scripted(self, call: Call) -> web.Response | None:
        for failure in self.failures:
            if failure.method != call.method or failure.times <= 0:
                continue
            if failure.chat_id is not None and failure.chat_id != call.chat_id:
                continue
            failure.times -= 1
            return _error(failure.status, failure.description, retry_after=failure.retry_after)
        return None

    def _over_limit(self, chat: str) -> bool:
        assert self.limits is not None
        overall, per_chat = self.limits
        now = time.monotonic()
        while self._recent and self._recent[0] <= now - 1.0:
            self._recent.popleft()
        last = self._last.get(chat)
        if len(self._recent) >= overall or (last is not None and now - last < 1.0 / per_chat):
            return True
        self._recent.append(now)
        self._last[chat] = now
        return False

    # -- methods -----------------------------------------------------------------------

    async def _m_getMe(self, call: Call) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Postsale",
            "username": self.username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _m_getUpdates(self, call: Call) -> list[dict[str, Any]]:
        bot = self._bot(call.token)
        if bot.webhook is not None:
            raise web.HTTPConflict(
                text=json.dumps(_body(409, "Conflict: can't use getUpdates while webhook is set")),
                content_type="application/json",
            )
        offset = int(call.params.get("offset") or 0)
        limit = int(call.params.get("limit") or 100)
        timeout = float(call.params.get("timeout") or 0)
        if offset:
            bot.confirmed = max(bot.confirmed, offset)
            bot.updates = [u for u in bot.updates if u["update_id"] >= offset]

        def ready() -> bool:
            return bool(bot.updates) or self._closing

        if not ready() and timeout > 0 and not self.ignores_timeout:
            try:
                async with asyncio.timeout(timeout), self._changed:
                    await self._changed.wait_for(ready)
            except TimeoutError:
                pass
        batch = bot.updates[:limit]
        if batch and bot.served_at is None:
            bot.served_at = time.monotonic()
        return batch

    async def _sent_message(self, call: Call, **content: Any) -> dict[str, Any]:
        if call.method in SENDS:
            self.arrived.append(call)
        self.sends[call.token] += 1
        self.last_send_at[call.token] = time.monotonic()
        chat = int(call.params["chat_id"])
        message = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": {"id": chat, "type": "private" if chat > 0 else "supergroup"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Postsale"},
            **content,
        }
        if call.markup.get("inline_keyboard"):
            message["reply_markup"] = call.markup
        if self.record:
            self.messages[(str(chat), message["message_id"])] = message
        return message

    def last_message(self, chat_id: str) -> dict[str, Any]:
        """The newest message sent to ``chat_id``, as it stands now."""
        return [m for (chat, _), m in self.messages.items() if chat == str(chat_id)][-1]

    def message(self, chat_id: str, message_id: int | str) -> dict[str, Any]:
        """A message sent to ``chat_id`` as it stands now (after any edits)."""
        return self.messages[(str(chat_id), int(message_id))]

    async def _m_sendMessage(self, call: Call) -> dict[str, Any]:
        return await self._sent_message(call, text=call.params.get("text", ""))

    async def _m_sendPhoto(self, call: Call) -> dict[str, Any]:
        size = len(call.files["photo"][1]) if "photo" in call.files else 0
        photo = {"file_id": "p1", "file_unique_id": "u1", "width": 1, "height": 1}
        extra = {"caption": call.params["caption"]} if call.params.get("caption") else {}
        return await self._sent_message(call, photo=[{**photo, "file_size": size}], **extra)

    async def _m_sendDocument(self, call: Call) -> dict[str, Any]:
        name, data = call.files.get("document", ("file", b""))
        document = {"file_id": "d1", "file_unique_id": "u2", "file_name": name}
        extra = {"caption": call.params["caption"]} if call.params.get("caption") else {}
        return await self._sent_message(
            call, document={**document, "file_size": len(data)}, **extra
        )

    async def _m_editMessageText(self, call: Call) -> dict[str, Any]:
        return await self._sent_message(call, text=call.params.get("text", ""))

    async def _m_editMessageReplyMarkup(self, call: Call) -> dict[str, Any] | web.Response:
        """Replace (or, with an empty or no keyboard, remove) a sent message's buttons."""
        key = (call.chat_id, int(call.params.get("message_id") or 0))
        message = self.messages.get(key)
        if message is None:
            return _error(400, "Bad Request: message to edit not found")
        keyboard = call.markup if call.markup.get("inline_keyboard") else None
        if keyboard == message.get("reply_markup"):
            return _error(
                400,
                "Bad Request: message is not modified: specified new message content and "
                "reply markup are exactly the same as a current content and reply markup "
                "of the message",
            )
        if keyboard is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = keyboard
        message["edit_date"] = int(time.time())
        return message

    async def _m_answerCallbackQuery(self, call: Call) -> bool:
        return True

    async def _m_sendChatAction(self, call: Call) -> bool:
        return True

    async def _m_setMyCommands(self, call: Call) -> bool:
        return True

    async def _m_setWebhook(self, call: Call) -> bool:
        self._bot(call.token).webhook = dict(call.params)
        return True

    async def _m_deleteWebhook(self, call: Call) -> bool:
        self._bot(call.token).webhook = None
        return True


def _body(status: int, description: str, retry_after: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return body


def _error(status: int, description: str, *, retry_after: int | None = None) -> web.Response:
    return web.json_response(_body(status, description, retry_after), status=status)


async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]]]:
    """Parameters as the Bot API reads them: JSON body, query string, or (multipart) form."""
    params: dict[str, Any] = dict(request.query)
    files: dict[str, tuple[str, bytes]] = {}
    if request.content_type == "application/json":
        params.update(await request.json())
        return params, files
    if request.can_read_body:
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                files[key] = (value.filename, value.file.read())
            else:
                params[key] = value
    for key in JSON_PARAMS & params.keys():
        if isinstance(params[key], str):
            params[key] = json.loads(params[key])
    # aiogram uploads a file under a random name, the field saying "attach://<name>".
    for key in ("photo", "document"):
        field = params.get(key)
        if isinstance(field, str) and field.startswith("attach://"):
            name = field.removeprefix("attach://")
            if name in files:
                files[key] = files.pop(name)
    return params, files
