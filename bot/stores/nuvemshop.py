"""Nuvemshop / Tiendanube order webhooks: verified, then the order fetched by its id.

Follows the Nuvemshop API v1 (tiendanube.github.io/api-documentation, "Webhook" and
"Order"). A webhook's body is only ``{"store_id": 123, "event": "order/paid", "id":
456}``, signed in ``x-linkedstore-hmac-sha256``: the hex HMAC-SHA256 of the raw body
under the app's client secret. The order is then read from ``GET
{NUVEMSHOP_API_URL}/{store_id}/orders/{id}`` with ``Authentication: bearer <token>``
(Nuvemshop's header, not ``Authorization``) and a ``User-Agent`` naming the app, which
their API requires.

Replays: Nuvemshop sends no delivery id, and two real ``order/updated`` of one order
have the same body, so neither the body nor (event, id) may mark a delivery as done
(the second update would be lost). Every delivery fetches the order as it is now and
records it with the order's ``updated_at``: a replay, early or days late, finds the
stored order equal or newer and changes nothing (the import counts it ``unchanged``
or ``stale``), and never rolls an order back.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Mapping

from bot.settings import Settings
from bot.stores.nuvemshop_orders import order_row
from bot.stores.order_values import text
from bot.stores.port import OrderRow, StoreApi, Unreadable, Webhook

log = logging.getLogger("postsale.stores")

NAME = "nuvemshop"
SIGNATURE_HEADER = "x-linkedstore-hmac-sha256"
# The order events whose order is fetched and recorded. order/cancelled and
# order/voided change nothing we keep (no delivery follows), so they are ignored.
FETCHED = frozenset(
    {
        "order/created",
        "order/updated",
        "order/paid",
        "order/packed",
        "order/unpacked",
        "order/fulfilled",
        "order/edited",
        "order/pending",
    }
)


def sign(secret: str, body: bytes) -> str:
    """The ``x-linkedstore-hmac-sha256`` value of ``body``."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Nuvemshop:
    """One store's app: its client secret, access token and (optionally) store id."""

    name = NAME
    api_version = "Nuvemshop API v1 (webhooks and orders)"

    def __init__(
        self, *, secret: str, token: str, store_id: str, api_url: str, user_agent: str
    ) -> None:
        self.secret, self.token, self.store_id = secret, token, store_id
        self.api_url, self.user_agent = api_url.rstrip("/"), user_agent

    def verify(self, headers: Mapping[str, str], body: bytes) -> bool:
        given = headers.get(SIGNATURE_HEADER, "").strip().lower()
        if not given:
            return False
        return hmac.compare_digest(sign(self.secret, body).encode(), given.encode())

    def read(self, headers: Mapping[str, str], body: bytes) -> Webhook:
        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise Unreadable(f"not JSON: {exc}") from None
        if not isinstance(payload, dict) or not text(payload.get("event")):
            raise Unreadable('not a Nuvemshop webhook (no "event")')
        if not text(payload.get("store_id")) or not text(payload.get("id")):
            raise Unreadable('a Nuvemshop webhook names "store_id" and "id"')
        return Webhook(topic=text(payload["event"]), delivery_id=None, payload=payload)

    async def rows(self, webhook: Webhook, api: StoreApi) -> list[OrderRow] | None:
        if webhook.topic not in FETCHED:
            return None
        store = text(webhook.payload["store_id"])
        if self.store_id and store != self.store_id:
            # Signed by our app but for another store: our token cannot read its orders.
            log.warning(
                "nuvemshop webhook for store %s, not NUVEMSHOP_STORE_ID %s", store, self.store_id
            )
            return None
        url = f"{self.api_url}/{store}/orders/{text(webhook.payload['id'])}"
        headers = {
            "Authentication": f"bearer {self.token}",
            "User-Agent": self.user_agent,
            "Accept": "application/json",
        }
        return [order_row(await api.get_json(url, headers))]


def build(settings: Settings) -> Nuvemshop | None:
    """The connector, when ``NUVEMSHOP_APP_SECRET`` is set (the settings then require the
    access token too)."""
    if not settings.nuvemshop_app_secret:
        return None
    return Nuvemshop(
        secret=settings.nuvemshop_app_secret,
        token=settings.nuvemshop_access_token,
        store_id=settings.nuvemshop_store_id.strip(),
        api_url=settings.nuvemshop_api_url,
        user_agent=settings.nuvemshop_user_agent,
    )
