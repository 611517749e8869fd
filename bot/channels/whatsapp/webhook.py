"""The Cloud API's webhook as the WhatsApp channel's routes (``WhatsAppChannel.routes``).

``GET /whatsapp`` is Meta's verification: ``hub.mode=subscribe`` and ``hub.verify_token``
equal to ``WHATSAPP_VERIFY_TOKEN`` (constant time) echo ``hub.challenge``; anything else
is 403. ``POST /whatsapp`` must carry ``X-Hub-Signature-256: sha256=<hex>``, the
HMAC-SHA256 of the raw body under ``WHATSAPP_APP_SECRET``; the digests are compared
as bytes in constant time (hex in either case is the same digest). Without a right
signature the answer is 401 and nothing is read. A body is answered 200 only once
everything in it is handled (committed), 503 while stopping or while the database is
failing, so that Meta sends it again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any, Protocol

from bot.channels.attempts import Unavailable
from bot.channels.port import HttpRequest, HttpResponse, Route
from bot.channels.whatsapp.profile import WEBHOOK_PATH
from bot.settings import Settings, SettingsError

log = logging.getLogger("postsale.http")

SIGNATURE_HEADER = "X-Hub-Signature-256"
PREFIX = "sha256="


class Stopping(Exception):
    """The channel is stopping: a webhook body is refused, Meta sends it again."""


class WebhookReceiver(Protocol):
    async def feed_webhook(self, data: dict[str, Any]) -> None: ...


def verify_ok(expected: str, query: Any) -> bool:
    given = query.get("hub.verify_token")
    return (
        query.get("hub.mode") == "subscribe"
        and isinstance(given, str)
        and hmac.compare_digest(expected.encode(), given.encode())
    )


def signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is ``sha256=`` and the hex HMAC-SHA256 of ``body`` under ``secret``."""
    if not header or not header.startswith(PREFIX):
        return False
    try:
        given = bytes.fromhex(header[len(PREFIX) :])
    except ValueError:
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return hmac.compare_digest(expected, given)


def sign(secret: str, body: bytes) -> str:
    """The header value Meta sends for ``body`` (for tests and tools)."""
    return PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _error(status: int, message: str) -> HttpResponse:
    return HttpResponse.json({"error": message}, status)


def webhook_routes(settings: Settings, channel: WebhookReceiver) -> tuple[Route, Route]:
    """``GET`` and ``POST`` at ``/whatsapp``; refuses to exist without their secrets."""
    missing = [
        name
        for name, value in (
            ("WHATSAPP_APP_SECRET", settings.whatsapp_app_secret),
            ("WHATSAPP_VERIFY_TOKEN", settings.whatsapp_verify_token),
        )
        if not value
    ]
    if missing:
        raise SettingsError(
            f"postsale: {' and '.join(missing)} must be set with WHATSAPP_TOKEN"
            " (Meta's webhook is verified with the verify token and signed with the app secret)"
        )
    secret, verify_token = settings.whatsapp_app_secret, settings.whatsapp_verify_token

    async def verify(request: HttpRequest) -> HttpResponse:
        if not verify_ok(verify_token, request.query):
            log.warning("whatsapp webhook: verification refused from %s", request.remote)
            return _error(403, "wrong hub.mode or hub.verify_token")
        return HttpResponse(200, str(request.query.get("hub.challenge", "")), "text/plain")

    async def receive(request: HttpRequest) -> HttpResponse:
        if not signature_ok(secret, request.body, request.headers.get(SIGNATURE_HEADER)):
            log.warning("whatsapp webhook: wrong or missing signature from %s", request.remote)
            return _error(401, f"wrong or missing {SIGNATURE_HEADER}")
        try:
            data = json.loads(request.body.decode("utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _error(400, "malformed JSON")
        if not isinstance(data, dict):
            return _error(400, "not a webhook body")
        return await _feed(channel, data)

    return Route("GET", WEBHOOK_PATH, verify), Route("POST", WEBHOOK_PATH, receive)


async def _feed(channel: WebhookReceiver, data: dict[str, Any]) -> HttpResponse:
    try:
        await channel.feed_webhook(data)
    except Stopping:
        return _error(503, "stopping")
    except Unavailable as exc:
        log.warning("whatsapp webhook: refused, the database is unavailable: %s", exc)
        return _error(503, "database unavailable")
    except Exception:
        log.exception("whatsapp webhook: a body failed")
        return _error(500, "internal error")
    return HttpResponse.json({})
