"""The bot's HTTP server: the Telegram webhook, order ingestion and a health check.

It runs when ``WEBHOOK_URL`` is set (Telegram posts updates to the URL's path) or
when ``INGEST_SECRET`` is set (``POST /ingest/orders``), on ``HTTP_HOST:HTTP_PORT``.
A webhook request must carry ``X-Telegram-Bot-Api-Secret-Token`` equal to
``WEBHOOK_SECRET`` (compared in constant time); without it the answer is 401 and
nothing is read. An update is answered 200 only once it is handled (committed), so
a crash before that makes Telegram send it again; 503 while stopping or while the
database is failing, for the same. An update that cannot be read or fails by itself
is kept as a dead update and answered 200: sending it again would not help.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import urlsplit

from aiohttp import web

from bot.app import Database
from bot.entrypoints.http.ingest import add_ingest_routes
from bot.settings import Settings, SettingsError

log = logging.getLogger("postsale.http")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DEFAULT_WEBHOOK_PATH = "/telegram/webhook"


class WebhookReceiver(Protocol):
    """What the webhook route needs of a channel."""

    async def feed_webhook(self, data: dict[str, Any]) -> None: ...


def webhook_path(settings: Settings) -> str:
    """The path Telegram posts to: the path of ``WEBHOOK_URL``."""
    path = urlsplit(settings.webhook_url).path
    return path if path and path != "/" else DEFAULT_WEBHOOK_PATH


def secret_ok(expected: str, given: str | None) -> bool:
    return (
        bool(expected)
        and given is not None
        and hmac.compare_digest(expected.encode(), given.encode())
    )


def webhook_handler(settings: Settings, channel: WebhookReceiver) -> Callable[[web.Request], Any]:
    """The request handler of Telegram's webhook calls."""

    async def handle(request: web.Request) -> web.Response:
        if not secret_ok(settings.webhook_secret, request.headers.get(SECRET_HEADER)):
            log.warning("webhook: wrong or missing secret token from %s", request.remote)
            return web.json_response({"error": f"wrong or missing {SECRET_HEADER}"}, status=401)
        try:
            data = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return web.json_response({"error": "malformed JSON"}, status=400)
        if not isinstance(data, dict) or "update_id" not in data:
            return web.json_response({"error": "not an update"}, status=400)
        from bot.channels.attempts import Unavailable
        from bot.channels.telegram.base import Stopping

        try:
            await channel.feed_webhook(data)
        except Stopping:
            return web.json_response({"error": "stopping"}, status=503)
        except Unavailable:
            log.warning("webhook: update %s refused: database unavailable", data.get("update_id"))
            return web.json_response({"error": "database unavailable"}, status=503)
        except Exception:
            log.exception("webhook: update %s failed", data.get("update_id"))
            return web.json_response({"error": "internal error"}, status=500)
        return web.json_response({})

    return handle


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def build_app(
    settings: Settings,
    db: Database,
    channel: WebhookReceiver | None,
    *,
    on_orders: Callable[[], None] | None = None,
) -> web.Application:
    """The aiohttp application: /healthz, the webhook (when set), /ingest/orders."""
    app = web.Application(client_max_size=8 * 1024 * 1024)
    app.router.add_get("/healthz", healthz)
    if settings.webhook_url and channel is not None:
        app.router.add_post(webhook_path(settings), webhook_handler(settings, channel))
    add_ingest_routes(
        app,
        db,
        settings,
        on_recorded=(lambda _result: on_orders()) if on_orders is not None else None,
    )
    return app


async def start_http_server(
    settings: Settings,
    db: Database,
    channel: WebhookReceiver | None,
    *,
    on_orders: Callable[[], None] | None = None,
) -> web.AppRunner | None:
    """Serve on ``HTTP_HOST:HTTP_PORT`` when a webhook or ingestion needs it, else None."""
    if not settings.webhook_url and not settings.ingest_secret:
        return None
    if settings.webhook_url and not settings.webhook_secret:
        raise SettingsError(
            "postsale: WEBHOOK_SECRET must be set with WEBHOOK_URL "
            "(Telegram's secret-token header authenticates the webhook)"
        )
    runner = web.AppRunner(build_app(settings, db, channel, on_orders=on_orders))
    await runner.setup()
    site = web.TCPSite(runner, settings.http_host, settings.http_port)
    await site.start()
    log.info("HTTP server on %s:%s", settings.http_host, settings.http_port)
    return runner
