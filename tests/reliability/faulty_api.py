"""The fake Bot API server with outages: the faults a real Bot API has, switched on and off.

Each fault applies to the methods in ``faulty`` (the sends, by default) while
``fault`` is set:

* ``"500"``: ``Internal Server Error`` as Telegram's JSON error.
* ``"429"``: ``Too Many Requests`` with ``retry_after``.
* ``"malformed"``: 200 with a body that is not JSON.
* ``"drop"``: the connection is closed before the request is read (nothing delivered).
* ``"lost_answer"``: the message is delivered (recorded as sent), then the connection
  is closed without an answer: the outcome is unknown to the bot.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from aiohttp import web

from tests.fakes.bot_api import SENDS, FakeBotApi

FAULTS = ("500", "429", "malformed", "drop", "lost_answer")


class FaultyBotApi(FakeBotApi):
    """``FakeBotApi`` with a switchable fault; counts what each fault answered."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fault: str | None = None
        self.faulty: set[str] = set(SENDS)
        self.faulted: Counter[str] = Counter()

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        fault, method = self.fault, request.match_info["method"]
        if fault is None or method not in self.faulty:
            return await super()._dispatch(request)
        self.faulted[fault] += 1
        if fault == "500":
            return web.json_response(
                {"ok": False, "error_code": 500, "description": "Internal Server Error"},
                status=500,
            )
        if fault == "429":
            return web.json_response(
                {
                    "ok": False,
                    "error_code": 429,
                    "description": "Too Many Requests: retry after 1",
                    "parameters": {"retry_after": 1},
                },
                status=429,
            )
        if fault == "malformed":
            return web.Response(text='{"ok": true, "result": {"message_id', status=200)
        if fault == "lost_answer":
            await super()._dispatch(request)  # delivered and recorded
        assert request.transport is not None
        request.transport.close()
        raise ConnectionResetError("dropped by the fake server")
