"""The HTTP server serves any channel's routes: a channel of this test's own, nothing else changed.

``SignedChannel`` is shaped like WhatsApp's Cloud API webhook: a GET that echoes
``hub.challenge`` when ``hub.verify_token`` is right, and a POST signed with an
``X-Hub-Signature-256`` HMAC of the raw body. Real aiohttp requests over loopback.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.app import Database
from bot.channels.port import HttpRequest, HttpResponse, Route
from bot.entrypoints.http.app import start_http_server
from bot.startup import StartupError
from tests.fakes.telegram_stack import telegram_settings

VERIFY_TOKEN = "verify-me"
APP_SECRET = b"app-secret"


def signature(body: bytes) -> str:
    return "sha256=" + hmac.new(APP_SECRET, body, hashlib.sha256).hexdigest()


class SignedChannel:
    """A channel that receives over HTTP only: its routes and the bodies they took in."""

    name = "signed"

    def __init__(self, prefix: str = "/signed") -> None:
        self.prefix = prefix
        self.bodies: list[bytes] = []

    def routes(self) -> tuple[Route, ...]:
        return (
            Route("GET", f"{self.prefix}/webhook", self.verify),
            Route("POST", f"{self.prefix}/webhook", self.receive),
        )

    async def verify(self, request: HttpRequest) -> HttpResponse:
        if request.query.get("hub.verify_token") != VERIFY_TOKEN:
            return HttpResponse(403, "wrong verify token")
        return HttpResponse(200, request.query.get("hub.challenge", ""))

    async def receive(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get("X-Hub-Signature-256", "")
        if not hmac.compare_digest(given, signature(request.body)):
            return HttpResponse(401, b"bad signature")
        self.bodies.append(request.body)
        return HttpResponse.json({"received": len(request.body)})


@pytest.fixture
async def served(sqlite_db: Database) -> AsyncIterator[tuple[SignedChannel, str]]:
    channel = SignedChannel()
    settings = telegram_settings("http://127.0.0.1:9", "aiogram", http_port=0)
    http = await start_http_server(settings, sqlite_db, {"signed": channel})
    assert http is not None  # its routes alone start the server (no webhook, no ingestion)
    host, port = http.addresses[0][:2]
    try:
        yield channel, f"http://{host}:{port}"
    finally:
        await http.cleanup()


async def test_a_verification_get_is_answered_by_the_channel(
    served: tuple[SignedChannel, str],
) -> None:
    _, base = served
    async with aiohttp.ClientSession() as client:
        right = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "42"}
        async with client.get(f"{base}/signed/webhook", params=right) as r:
            assert (r.status, await r.text(), r.content_type) == (200, "42", "text/plain")
        wrong = {**right, "hub.verify_token": "guess"}
        async with client.get(f"{base}/signed/webhook", params=wrong) as r:
            assert (r.status, await r.text()) == (403, "wrong verify token")


async def test_a_signed_post_reaches_the_channel_with_its_raw_body(
    served: tuple[SignedChannel, str],
) -> None:
    channel, base = served
    # Spacing and key order as sent: a signature covers the bytes, not the JSON they mean.
    body = b'{ "entry" : [ {"id": "1"} ],  "object":"whatsapp_business_account" }'
    async with aiohttp.ClientSession() as client:
        # Header names in any case: the channel looks it up as it spells it.
        signed = {"x-hub-signature-256": signature(body), "Content-Type": "application/json"}
        async with client.post(f"{base}/signed/webhook", data=body, headers=signed) as r:
            assert (r.status, await r.json()) == (200, {"received": len(body)})
        forged = {"X-Hub-Signature-256": signature(body + b" ")}
        async with client.post(f"{base}/signed/webhook", data=body, headers=forged) as r:
            assert (r.status, await r.read()) == (401, b"bad signature")
        async with client.get(f"{base}/healthz") as r:
            assert r.status == 200  # the server's own routes beside the channel's
        async with client.post(f"{base}/signed/other", data=body) as r:
            assert r.status == 404
    assert channel.bodies == [body]


async def test_two_channels_declaring_one_route_do_not_start(sqlite_db: Database) -> None:
    settings = telegram_settings("http://127.0.0.1:9", "aiogram", http_port=0)
    both = {"first": SignedChannel("/hook"), "second": SignedChannel("/hook")}
    with pytest.raises(
        StartupError,
        match="GET /hook/webhook is declared by both channel .first. and channel .second.",
    ):
        await start_http_server(settings, sqlite_db, both)
    apart = {"first": SignedChannel("/one"), "second": SignedChannel("/two")}
    http = await start_http_server(settings, sqlite_db, apart)
    assert http is not None
    await http.cleanup()


async def test_a_channel_cannot_take_the_servers_own_routes(sqlite_db: Database) -> None:
    class Greedy(SignedChannel):
        def routes(self) -> tuple[Route, ...]:
            return (Route("post", "/ingest/orders", self.receive),)

    settings = telegram_settings("http://127.0.0.1:9", "aiogram", http_port=0)
    with pytest.raises(StartupError, match="POST /ingest/orders is declared by both order"):
        await start_http_server(settings, sqlite_db, {"greedy": Greedy()})
