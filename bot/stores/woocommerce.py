"""WooCommerce: order webhooks, recorded as orders (``POST /connect/woocommerce``).

Follows WooCommerce's webhooks (WooCommerce 8/9, payloads of the REST API v3, the
webhook's "API version" WP REST API Integration v3). A delivery is signed in
``X-WC-Webhook-Signature``: the base64 HMAC-SHA256 of the raw body with the secret
typed into the webhook (WOOCOMMERCE_WEBHOOK_SECRET); the topic is
``X-WC-Webhook-Topic`` (``order.created``, ``order.updated``). Replays:
``X-WC-Webhook-Delivery-ID`` is a hash of the webhook id and the second it was sent,
so two orders updated within one second share it; the delivery is therefore named by
it together with the body's hash (the same delivery sent again has the same body).

When a webhook is saved, WooCommerce first posts ``webhook_id=<id>`` form-encoded,
unsigned, and keeps the webhook only if the answer is 200: that exact ping is
answered 200 (``{"ignored": "ping"}``) and changes nothing. Mapping:
``bot.stores.woocommerce_orders``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping

from bot.settings import Settings
from bot.stores.port import OrderRow, StoreApi, Unreadable, Webhook
from bot.stores.signatures import base64_hmac_ok
from bot.stores.woocommerce_orders import PLATFORM, order_row

API_VERSION = "wc/v3"
SIGNATURE_HEADER = "X-WC-Webhook-Signature"
TOPIC_HEADER = "X-WC-Webhook-Topic"
DELIVERY_HEADER = "X-WC-Webhook-Delivery-ID"
ORDER_TOPICS = frozenset({"order.created", "order.updated", "order.restored"})
PING_TOPIC = "ping"
_PING = re.compile(rb"webhook_id=\d{1,20}")


def sign(secret: str, body: bytes) -> str:
    """The ``X-WC-Webhook-Signature`` of ``body`` (what WooCommerce sends; tests sign so)."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _is_ping(headers: Mapping[str, str], body: bytes) -> bool:
    return SIGNATURE_HEADER not in headers and _PING.fullmatch(body) is not None


class WooCommerceConnector:
    """WooCommerce's order webhooks; ``completed_means`` per WOOCOMMERCE_COMPLETED_STATUS."""

    name = PLATFORM
    api_version = API_VERSION

    def __init__(self, secret: str, *, completed_means: str = "delivered") -> None:
        self._secret = secret.encode()
        self.completed_means = completed_means

    def verify(self, headers: Mapping[str, str], body: bytes) -> bool:
        if _is_ping(headers, body):
            return True  # unsigned by WooCommerce itself; it records nothing
        given = headers.get(SIGNATURE_HEADER, "")
        return base64_hmac_ok(self._secret, body, given)

    def read(self, headers: Mapping[str, str], body: bytes) -> Webhook:
        if _is_ping(headers, body):
            return Webhook(topic=PING_TOPIC, delivery_id=None, payload=None)
        topic = headers.get(TOPIC_HEADER, "").strip()
        if not topic:
            raise Unreadable(f"no {TOPIC_HEADER} header")
        try:
            payload = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise Unreadable(f"the body is not JSON: {exc}") from None
        sent = headers.get(DELIVERY_HEADER, "").strip()
        delivery = f"{sent}:{hashlib.sha256(body).hexdigest()[:24]}" if sent else None
        return Webhook(topic=topic, delivery_id=delivery, payload=payload)

    async def rows(self, webhook: Webhook, api: StoreApi) -> list[OrderRow] | None:
        if webhook.topic not in ORDER_TOPICS:
            return None
        row = order_row(webhook.payload, self.completed_means)
        return None if row is None else [row]


def build(settings: Settings) -> WooCommerceConnector | None:
    """The connector when WOOCOMMERCE_WEBHOOK_SECRET is set."""
    if not settings.woocommerce_webhook_secret:
        return None
    return WooCommerceConnector(
        settings.woocommerce_webhook_secret,
        completed_means=settings.woocommerce_completed_status,
    )
