"""A fake WhatsApp Cloud API on loopback, and a poster of signed webhook bodies.

The server speaks the Graph API's shapes for what the channel calls: ``GET
/{version}/{phone_number_id}`` (the number's object), ``POST .../messages`` (a message:
``{"messaging_product", "contacts": [{"input", "wa_id"}], "messages": [{"id"}]}``,
templates adding ``"message_status": "accepted"``; a read mark: ``{"success": true}``)
and ``POST .../media`` (``{"id"}``). A token other than ``token`` is refused as Meta
does (401, code 190). It enforces the 24-hour window: a free-form message to a number
whose last inbound (as ``WebhookPoster`` posted it, or ``saw_inbound``) is older than
24 hours of the fake's clock is refused with 131047. ``fail_next`` scripts error
objects (131047, 131056, 130429, 131026, 131048, 131049, 4, 80007, 131000, ...).
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.channels.whatsapp.webhook import SIGNATURE_HEADER, sign
from tests.fakes import wa_updates as wa

TOKEN = "EAAG-fake-whatsapp-token-123"
APP_SECRET = "fake-app-secret-456"
VERIFY_TOKEN = "fake-verify-token-789"
VERSION = "v23.0"

# code -> (HTTP status, message as Meta words it, details)
ERRORS: dict[int, tuple[int, str, str]] = {
    131047: (
        400,
        "(#131047) Re-engagement message",
        "Message failed to send because more than"
        " 24 hours have passed since the customer last replied to this number.",
    ),
    131056: (
        400,
        "(#131056) (Business Account, Consumer Account) pair rate limit hit",
        "Too many messages sent from the sender phone number to the same recipient"
        " phone number in a short period of time.",
    ),
    130429: (429, "(#130429) Rate limit hit", "Cloud API message throughput has been reached."),
    131026: (400, "(#131026) Message Undeliverable", "Message Undeliverable."),
    131048: (
        400,
        "(#131048) Spam rate limit hit",
        "Message failed to send because there are"
        " restrictions on how many messages can be sent from this phone number.",
    ),
    131049: (
        400,
        "(#131049) This message was not delivered to maintain healthy ecosystem engagement.",
        "In order to maintain a healthy ecosystem engagement, the message failed to be delivered.",
    ),
    4: (400, "(#4) Application request limit reached", "Too many API calls."),
    80007: (
        400,
        "(#80007) Rate limit issues",
        "The WhatsApp Business Account has reached its rate limit.",
    ),
    131000: (
        500,
        "(#131000) Something went wrong",
        "Message failed to send due to an unknown error.",
    ),
    100: (400, "(#100) Invalid parameter", "Parameter value is not valid."),
    190: (401, "Error validating access token: Session has expired.", ""),
}


def error_object(
    code: int,
    http_status: int | None = None,
    message: str | None = None,
    details: str | None = None,
) -> tuple[int, dict[str, Any]]:
    """The HTTP status and JSON body Meta answers with for error ``code``."""
    status, words, explained = ERRORS.get(code, (400, f"(#{code}) Error", ""))
    error: dict[str, Any] = {
        "message": message or words,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AbCdEfGhIjKlMnOp",
    }
    if details or explained:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details or explained}
    if code == 190:
        error["error_subcode"] = 463
    return http_status or status, {"error": error}


@dataclass
class Failure:
    code: int
    http_status: int | None
    message: str | None
    details: str | None
    times: int
    to: str | None


@dataclass
class Request:
    """One request the server received (a message's JSON, or an upload's form)."""

    path: str
    body: dict[str, Any]
    accepted: bool = False
    wamid: str | None = None
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)


class FakeCloudApi:
    """The Graph API of one business number, on 127.0.0.1 (port 0)."""

    def __init__(
        self,
        phone_number_id: str = wa.PHONE_NUMBER_ID,
        token: str = TOKEN,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.phone_number_id, self.token, self.clock = phone_number_id, token, clock
        self.requests: list[Request] = []
        self.last_inbound: dict[str, datetime] = {}
        self.enforce_window = True
        self._failures: list[Failure] = []
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._server: TestServer | None = None

    async def start(self) -> str:
        """Serve; the API URL to set as ``WHATSAPP_API_URL``."""
        app = web.Application()
        base = f"/{VERSION}/{self.phone_number_id}"
        app.router.add_get(base, self._number)
        app.router.add_post(base + "/messages", self._messages)
        app.router.add_post(base + "/media", self._media)
        self._server = TestServer(app, host="127.0.0.1", port=0)
        await self._server.start_server()
        return f"http://127.0.0.1:{self._server.port}/{VERSION}"

    async def close(self) -> None:
        if self._server is not None:
            await self._server.close()

    # -- scripting ---------------------------------------------------------------------

    def fail_next(
        self,
        code: int,
        http_status: int | None = None,
        *,
        message: str | None = None,
        details: str | None = None,
        times: int = 1,
        to: str | None = None,
    ) -> None:
        """The next ``times`` messages (to ``to``, or any) are refused with ``code``."""
        self._failures.append(Failure(code, http_status, message, details, times, to))

    def saw_inbound(self, number: str, at: datetime | None = None) -> None:
        """``number`` wrote to the business at ``at`` (now): its window opens."""
        self.last_inbound[number] = at or self.clock()

    # -- reading what came -------------------------------------------------------------

    def messages(self, to: str | None = None) -> list[dict[str, Any]]:
        """Every message accepted (not read marks), oldest first."""
        return [
            r.body
            for r in self.requests
            if r.accepted and "to" in r.body and (to is None or r.body["to"] == to)
        ]

    def refused(self) -> list[dict[str, Any]]:
        return [r.body for r in self.requests if not r.accepted and r.path == "messages"]

    def read_marks(self) -> list[str]:
        return [
            str(r.body["message_id"])
            for r in self.requests
            if r.accepted and r.body.get("status") == "read"
        ]

    def uploads(self) -> list[Request]:
        return [r for r in self.requests if r.path == "media"]

    def delivered(self) -> int:
        return len(self.messages())

    async def wait_until(self, condition: Callable[[], bool], within: float = 10.0) -> None:
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(condition)

    # -- the routes ----------------------------------------------------------------------

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.token}"

    async def _record(self, entry: Request) -> None:
        self.requests.append(entry)
        async with self._changed:
            self._changed.notify_all()

    async def _number(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return _error(190)
        return web.json_response(
            {
                "verified_name": "Postsale Test Store",
                "display_phone_number": "+1 555-078-3881",
                "quality_rating": "GREEN",
                "id": self.phone_number_id,
            }
        )

    async def _messages(self, request: web.Request) -> web.Response:
        data = await request.json()
        entry = Request("messages", data)
        refusal = self._refusal(request, data)
        if refusal is not None:
            await self._record(entry)
            return refusal
        entry.accepted = True
        if data.get("status") == "read":
            await self._record(entry)
            return web.json_response({"success": True})
        entry.wamid = wa.wamid(100_000 + next(self._ids))
        await self._record(entry)
        sent: dict[str, Any] = {"id": entry.wamid}
        if data.get("type") == "template":
            sent["message_status"] = "accepted"
        to = str(data["to"])
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [sent],
            }
        )

    def _refusal(self, request: web.Request, data: dict[str, Any]) -> web.Response | None:
        if not self._authorized(request):
            return _error(190)
        if data.get("messaging_product") != "whatsapp":
            return _error(100, details="messaging_product is required")
        to = data.get("to")
        for failure in self._failures:
            if failure.times > 0 and (failure.to is None or failure.to == to) and to:
                failure.times -= 1
                return _error(failure.code, failure.http_status, failure.message, failure.details)
        free_form = to is not None and data.get("type") != "template"
        if free_form and self.enforce_window and not self._window_open(str(to)):
            return _error(131047)
        return None

    def _window_open(self, number: str) -> bool:
        last = self.last_inbound.get(number)
        return last is not None and self.clock() - last < timedelta(hours=24)

    async def _media(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return _error(190)
        form = await request.post()
        upload = form.get("file")
        fields = {k: str(v) for k, v in form.items() if k != "file"}
        entry = Request("media", fields, accepted=True)
        if isinstance(upload, web.FileField):
            entry.files["file"] = (upload.filename, upload.file.read())
        entry.wamid = str(4_000_000 + next(self._ids))
        await self._record(entry)
        return web.json_response({"id": entry.wamid})


def _error(
    code: int,
    http_status: int | None = None,
    message: str | None = None,
    details: str | None = None,
) -> web.Response:
    status, payload = error_object(code, http_status, message, details)
    return web.json_response(payload, status=status)


class WebhookPoster:
    """Posts webhook bodies to the bot as Meta does: signed with the app secret.

    Each posted message opens that number's window on ``api`` (the fake's 24-hour rule).
    """

    def __init__(self, url: str, secret: str = APP_SECRET, api: FakeCloudApi | None = None):
        self.url, self.secret, self.api = url, secret, api

    async def post(
        self, *values: dict[str, Any], signature: str | None | bool = True, raw: bytes | None = None
    ) -> int:
        """POST a body of ``values`` (or ``raw`` bytes); the HTTP status it got.

        ``signature``: True signs the body, a string is sent as the header, None or
        False sends none.
        """
        content = raw if raw is not None else json.dumps(wa.body(*values)).encode()
        headers = {"Content-Type": "application/json"}
        if signature is True:
            headers[SIGNATURE_HEADER] = sign(self.secret, content)
        elif isinstance(signature, str):
            headers[SIGNATURE_HEADER] = signature
        if self.api is not None:
            for value in values:
                for item in value.get("messages", []):
                    self.api.saw_inbound(item["from"])
        async with (
            aiohttp.ClientSession() as http,
            http.post(self.url, data=content, headers=headers) as answer,
        ):
            await answer.read()
            return answer.status

    async def verify(self, mode: str, token: str, challenge: str = "1158201444") -> tuple[int, str]:
        params = {"hub.mode": mode, "hub.verify_token": token, "hub.challenge": challenge}
        async with aiohttp.ClientSession() as http, http.get(self.url, params=params) as answer:
            return answer.status, await answer.text()
