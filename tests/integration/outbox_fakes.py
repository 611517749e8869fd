"""A scripted sendMessage endpoint on loopback and a minimal HTTP channel that talks to it.

Used by the outbox sender tests to script failures per chat (429, 5xx, 403, 400);
the full fake Bot API server lives in ``tests/fakes``.
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.channels.port import ChannelLimits, Forbidden, Outgoing, Rejected, RetryAfter, Transient
from bot.channels.telegram import profile


@dataclass
class Delivered:
    chat_id: str
    text: str
    at: float
    token: str = ""  # which bot (process) sent it


@dataclass
class ScriptedBotApi:
    """``sendMessage`` that answers each chat's scripted failures first, then succeeds."""

    # chat id -> answers to give before succeeding: (status, description, retry_after)
    script: dict[str, list[tuple[int, str, int | None]]] = field(default_factory=dict)
    blocked: set[str] = field(default_factory=set)  # always 403
    bad: dict[str, str] = field(default_factory=dict)  # always 400 with this description
    delivered: list[Delivered] = field(default_factory=list)
    requests: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    # Telegram's limits, when set: (messages a second overall, a second per chat).
    limits: tuple[float, float] | None = None
    too_many: int = 0  # 429s answered for breaking the limits
    get_me_calls: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _recent: deque[float] = field(default_factory=deque)
    _last: dict[str, float] = field(default_factory=dict)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/bot{token}/sendMessage", self._send)
        app.router.add_get("/bot{token}/getMe", self._get_me)
        return app

    async def _get_me(self, request: web.Request) -> web.Response:
        self.get_me_calls += 1
        me = {"id": 123, "is_bot": True, "first_name": "Postsale", "username": "postsale_test_bot"}
        return web.json_response({"ok": True, "result": me})

    async def _send(self, request: web.Request) -> web.Response:
        data: dict[str, Any] = await request.json()
        chat = str(data["chat_id"])
        self.requests[chat].append(time.monotonic())
        answers = self.script.get(chat)
        if answers:
            status, description, retry_after = answers.pop(0)
            body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
            if retry_after is not None:
                body["parameters"] = {"retry_after": retry_after}
            return web.json_response(body, status=status)
        if self.limits is not None and self._over_limit(chat, time.monotonic()):
            self.too_many += 1
            body = {"ok": False, "error_code": 429, "description": "Too Many Requests"}
            return web.json_response({**body, "parameters": {"retry_after": 1}}, status=429)
        if chat in self.blocked:
            return self._error(403, "Forbidden: bot was blocked by the user")
        if chat in self.bad:
            return self._error(400, self.bad[chat])
        token = request.match_info["token"]
        self.delivered.append(Delivered(chat, data.get("text", ""), time.monotonic(), token))
        return web.json_response(
            {"ok": True, "result": {"message_id": next(self._ids), "chat": {"id": chat}}}
        )

    def _over_limit(self, chat: str, now: float) -> bool:
        """Sliding one-second windows, as strict as Telegram is documented to be."""
        assert self.limits is not None
        overall, per_chat = self.limits
        while self._recent and self._recent[0] <= now - 1.0:
            self._recent.popleft()
        last = self._last.get(chat)
        if len(self._recent) >= overall or (last is not None and now - last < 1.0 / per_chat):
            return True
        self._recent.append(now)
        self._last[chat] = now
        return False

    @staticmethod
    def _error(status: int, description: str) -> web.Response:
        body = {"ok": False, "error_code": status, "description": description}
        return web.json_response(body, status=status)

    def texts(self, chat_id: str) -> list[str]:
        return [d.text for d in self.delivered if d.chat_id == chat_id]


class HttpChannel:
    """Just enough of a Telegram channel: sendMessage with errors mapped as the adapters do."""

    name = profile.NAME
    limits = ChannelLimits(global_rate=30.0, per_chat_rate=1.0, group_per_minute=20.0)
    capabilities = profile.CAPABILITIES

    def __init__(self, base_url: str, token: str = "123:TEST") -> None:
        self.url = f"{base_url}/bot{token}/sendMessage"
        self.http: aiohttp.ClientSession | None = None

    async def send(self, message: Outgoing) -> str:
        if self.http is None:
            self.http = aiohttp.ClientSession()
        try:
            async with self.http.post(
                self.url, json={"chat_id": message.chat_id, "text": message.text}
            ) as response:
                data = await response.json()
        except aiohttp.ClientError as exc:
            raise Transient(str(exc)) from exc
        if data.get("ok"):
            return str(data["result"]["message_id"])
        code, description = data.get("error_code"), data.get("description", "")
        if code == 429:
            raise RetryAfter(float(data.get("parameters", {}).get("retry_after", 1)))
        if code == 403:
            raise Forbidden(description)
        if code == 400:
            raise Rejected(description)
        raise Transient(f"{code} {description}")

    def is_group(self, chat_id: str) -> bool:
        return profile.is_group(chat_id)

    async def close(self) -> None:
        if self.http is not None:
            await self.http.close()


@contextlib.asynccontextmanager
async def serving(api: ScriptedBotApi) -> AsyncIterator[HttpChannel]:
    """``api`` on a loopback port, and a channel that sends to it (both closed after)."""
    server = TestServer(api.app(), host="127.0.0.1")
    await server.start_server()
    channel = HttpChannel(str(server.make_url("")).rstrip("/"))
    try:
        yield channel
    finally:
        await channel.close()
        await server.close()
