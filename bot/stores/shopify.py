"""Shopify: order and fulfillment webhooks, recorded as orders (``POST /connect/shopify``).

Follows Shopify's webhooks and REST Admin API version 2025-01. A delivery is signed
in ``X-Shopify-Hmac-Sha256``: the base64 HMAC-SHA256 of the raw body with the app's
client secret (SHOPIFY_WEBHOOK_SECRET); its topic is ``X-Shopify-Topic`` and
``X-Shopify-Webhook-Id`` stays the same when Shopify delivers it again, so it names
the delivery for replays. Topics: the order ones (``orders/create``, ``orders/updated``,
``orders/paid``, ``orders/fulfilled``, ``orders/partially_fulfilled``) carry the whole
order; the fulfillment ones (``fulfillments/create``, ``fulfillments/update``) only the
order's id, completed from the stored order, else fetched with the Admin API when
SHOPIFY_SHOP and SHOPIFY_ACCESS_TOKEN are set (``GET /admin/api/2025-01/orders/{id}.json``).
Mapping: ``bot.stores.shopify_orders``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from collections.abc import Mapping
from typing import Any

from bot.settings import Settings
from bot.stores.port import OrderRow, StoreApi, Unreadable, Webhook
from bot.stores.shopify_orders import PLATFORM, fulfillment_row, order_row
from bot.stores.signatures import base64_hmac_ok

log = logging.getLogger("postsale.stores")

API_VERSION = "2025-01"
SIGNATURE_HEADER = "X-Shopify-Hmac-Sha256"
TOPIC_HEADER = "X-Shopify-Topic"
DELIVERY_HEADER = "X-Shopify-Webhook-Id"
ORDER_TOPICS = frozenset(
    {
        "orders/create",
        "orders/updated",
        "orders/paid",
        "orders/fulfilled",
        "orders/partially_fulfilled",
    }
)
FULFILLMENT_TOPICS = frozenset({"fulfillments/create", "fulfillments/update"})
DELIVERY_FIELDS = frozenset(
    {"delivery_status", "tracking_url", "estimated_delivery_at", "delivered_at"}
)


def sign(secret: str, body: bytes) -> str:
    """The ``X-Shopify-Hmac-Sha256`` value of ``body`` (what Shopify sends; tests sign so)."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class ShopifyConnector:
    """Shopify's webhooks; ``api_url`` and ``token`` set when orders may be fetched."""

    name = PLATFORM
    api_version = API_VERSION

    def __init__(self, secret: str, *, api_url: str = "", token: str = "") -> None:
        self._secret = secret.encode()
        self.api_url = api_url.rstrip("/")
        self._token = token

    def verify(self, headers: Mapping[str, str], body: bytes) -> bool:
        given = headers.get(SIGNATURE_HEADER, "")
        return base64_hmac_ok(self._secret, body, given)

    def read(self, headers: Mapping[str, str], body: bytes) -> Webhook:
        topic = headers.get(TOPIC_HEADER, "").strip()
        if not topic:
            raise Unreadable(f"no {TOPIC_HEADER} header")
        try:
            payload = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise Unreadable(f"the body is not JSON: {exc}") from None
        delivery = headers.get(DELIVERY_HEADER, "").strip() or None
        log.debug(
            "shopify webhook %s: %s from %s, API version %s",
            delivery,
            topic,
            headers.get("X-Shopify-Shop-Domain", "?"),
            headers.get("X-Shopify-API-Version", "?"),
        )
        return Webhook(topic=topic, delivery_id=delivery, payload=payload)

    async def rows(self, webhook: Webhook, api: StoreApi) -> list[OrderRow] | None:
        if webhook.topic in ORDER_TOPICS:
            row = order_row(webhook.payload)
        elif webhook.topic in FULFILLMENT_TOPICS:
            row = fulfillment_row(webhook.payload)
            if row is not None and row.get("delivery_status") == "delivered":
                row = await self._with_other_parcels(webhook.payload, row, api)
        else:
            return None
        if row is None:
            log.info(
                "shopify webhook %s (%s): nothing to record (a cancelled order or fulfillment,"
                " or an order with neither customer, e-mail nor phone)",
                webhook.delivery_id,
                webhook.topic,
            )
            return None
        return [row]

    async def fetch_order(self, row: OrderRow, api: StoreApi) -> OrderRow | None:
        order = await self._order(row, api)
        fetched = order_row(order) if order is not None else None
        if fetched is None:
            return None
        # The order as Shopify has it now; the event's own fields fill what it lacks.
        return {**row, **{k: v for k, v in fetched.items() if v not in (None, "")}}

    async def _order(self, row: OrderRow, api: StoreApi) -> dict[str, Any] | None:
        """The order as the Admin API gives it; None when no credentials are set."""
        if not (self.api_url and self._token):
            return None
        order_id = str(row["order_id"]).removeprefix(f"{PLATFORM}:")
        url = f"{self.api_url}/admin/api/{API_VERSION}/orders/{order_id}.json"
        answer: Any = await api.get_json(url, {"X-Shopify-Access-Token": self._token})
        if not isinstance(answer, dict) or not isinstance(answer.get("order"), dict):
            raise Unreadable("Shopify's order answer is not an object")
        order: dict[str, Any] = answer["order"]
        return order

    async def _with_other_parcels(
        self, fulfillment: dict[str, Any], row: OrderRow, api: StoreApi
    ) -> OrderRow:
        """A delivered parcel delivers its order only once the order's other parcels are
        delivered too: their latest news comes from the Admin API, this event's from the
        event itself (the fresher of the two). Without credentials the event is all
        there is, and the parcel's delivery stands for the order's (docs/stores.md)."""
        order = await self._order(row, api)
        if order is None:
            return row
        others = [
            f
            for f in order.get("fulfillments") or []
            if isinstance(f, dict) and f.get("id") != fulfillment.get("id")
        ]
        fetched = order_row({**order, "fulfillments": [*others, fulfillment]})
        if fetched is None:  # cancelled since, or nobody to reach: the event alone
            return row
        # The order's delivery fields, all of them: the parcel's own delivered_at must
        # not outlive the order's "shipped".
        merged = {k: v for k, v in row.items() if k not in DELIVERY_FIELDS}
        merged.update({k: v for k, v in fetched.items() if v not in (None, "")})
        # The event's time, not the order's older one: the import keeps the newest news.
        merged["updated_at"] = row.get("updated_at") or merged.get("updated_at")
        return merged


def shop_url(shop: str) -> str:
    """``https://mystore.myshopify.com`` for ``mystore`` or ``mystore.myshopify.com``."""
    host = shop.strip().removeprefix("https://").rstrip("/")
    if not host:
        return ""
    return f"https://{host if '.' in host else host + '.myshopify.com'}"


def build(settings: Settings) -> ShopifyConnector | None:
    """The connector when SHOPIFY_WEBHOOK_SECRET is set."""
    if not settings.shopify_webhook_secret:
        return None
    return ShopifyConnector(
        settings.shopify_webhook_secret,
        api_url=settings.shopify_api_url or shop_url(settings.shopify_shop),
        token=settings.shopify_access_token,
    )
