"""Telegram's webhook as a route of the Telegram channel (``TelegramChannel.routes``).

Telegram posts updates to the path of ``WEBHOOK_URL``. A request must carry
``X-Telegram-Bot-Api-Secret-Token`` equal to ``WEBHOOK_SECRET`` (compared in constant
time); without it the answer is 401 and nothing is read. An update is answered 200
only once it is handled (committed), so a crash before that makes Telegram send it
again; 503 while stopping or while the database is failing, for the same. An update
that cannot be read or fails by itself is kept as a dead update and answered 200:
sending it again would not help.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any, Protocol

from bot.channels.attempts import Unavailable
from bot.channels.port import HttpRequest, HttpResponse, Route
from bot.channels.telegram import profile
from bot.settings import Settings, SettingsError

log = logging.getLogger("postsale.http")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class Stopping(Exception):
    """The channel is stopping: a webhook update is refused, Telegram sends it again."""


class WebhookReceiver(Protocol):
    """What the webhook route needs of the channel."""

    async def feed_webhook(self, data: dict[str, Any]) -> None: ...


def secret_ok(expected: str, given: str | None) -> bool:
    return (
        bool(expected)
        and given is not None
        and hmac.compare_digest(expected.encode(), given.encode())
    )


def _error(status: int, message: str) -> HttpResponse:
    return HttpResponse.json({"error": message}, status)


def webhook_route(settings: Settings, channel: WebhookReceiver) -> Route:
    """``POST`` at the path of ``WEBHOOK_URL``; refuses to exist without ``WEBHOOK_SECRET``."""
    if not settings.webhook_secret:
        raise SettingsError(
            "postsale: WEBHOOK_SECRET must be set with WEBHOOK_URL "
            "(Telegram's secret-token header authenticates the webhook)"
        )
    expected = settings.webhook_secret

    async def handle(request: HttpRequest) -> HttpResponse:
        if not secret_ok(expected, request.headers.get(SECRET_HEADER)):
            log.warning("webhook: wrong or missing secret token from %s", request.remote)
            return _error(401, f"wrong or missing {SECRET_HEADER}")
        try:
            data = json.loads(request.body.decode("utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _error(400, "malformed JSON")
        if not isinstance(data, dict) or "update_id" not in data:
            return _error(400, "not an update")
        return await _feed(channel, data)

    return Route("POST", profile.webhook_path(settings.webhook_url), handle)


async def _feed(channel: WebhookReceiver, data: dict[str, Any]) -> HttpResponse:
    try:
        await channel.feed_webhook(data)
    except Stopping:
        return _error(503, "stopping")
    except Unavailable:
        log.warning("webhook: update %s refused: database unavailable", data.get("update_id"))
        return _error(503, "database unavailable")
    except Exception:
        log.exception("webhook: update %s failed", data.get("update_id"))
        return _error(500, "internal error")
    return HttpResponse.json({})
