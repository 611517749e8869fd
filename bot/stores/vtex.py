"""VTEX order hooks (Orders API, Feed v3 "hook"): the key checked, the order fetched.

Follows the VTEX Orders API: the store creates the hook with ``POST
/api/orders/hook/config`` whose ``hook.url`` is ``https://<host>/connect/vtex`` and
whose ``hook.headers`` carry ``X-Postsale-Hook-Key: <VTEX_HOOK_KEY>``; VTEX sends those
headers with every notification, and the key is compared in constant time (VTEX signs
nothing itself). A notification's body::

    {"Domain": "Marketplace", "OrderId": "v5195004lux-01", "State": "invoiced",
     "LastState": "handling", "LastChange": "...", "CurrentChange": "...",
     "Origin": {"Account": "...", "Key": "..."}}

names the order only, which is then read from ``GET {host}/api/oms/pvt/orders/{orderId}``
with ``X-VTEX-API-AppKey`` / ``X-VTEX-API-AppToken``. When the hook is configured VTEX
first posts ``{"hookConfig": "ping"}`` and keeps the configuration only if it is
answered 200: that body, and nothing else, is answered 200 (``{"ignored": "ping"}``)
even without the key, as it carries nothing to record. A notification's delivery id is
(``OrderId``, ``State``, ``CurrentChange``): one change of one order, so VTEX's retries
of it are recorded once.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from bot.settings import Settings
from bot.stores.order_values import text
from bot.stores.port import OrderRow, StoreApi, Unreadable, Webhook
from bot.stores.vtex_orders import order_row

NAME = "vtex"
KEY_HEADER = "X-Postsale-Hook-Key"
PING = "ping"
PING_BODY = {"hookConfig": PING}
# States whose order is not recorded: nothing will be delivered.
IGNORED_STATES = frozenset({"canceled", "cancel", "cancellation-requested", "payment-denied"})


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Unreadable(f"not JSON: {exc}") from None


def _is_ping(body: bytes) -> bool:
    """Whether the body is VTEX's configuration ping and nothing else (it alone may come
    without the key: it records nothing)."""
    if len(body) > 64 or b"hookConfig" not in body:  # a cheap look first, before JSON
        return False
    try:
        return bool(json.loads(body) == PING_BODY)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return False


class Vtex:
    """One VTEX account: the hook key it sends, the app key and token it is read with."""

    name = NAME
    api_version = "VTEX Orders API (OMS get order; Feed v3 hook)"

    def __init__(self, *, hook_key: str, app_key: str, app_token: str, base_url: str) -> None:
        self.hook_key, self.app_key, self.app_token = hook_key, app_key, app_token
        self.base_url = base_url.rstrip("/")

    def verify(self, headers: Mapping[str, str], body: bytes) -> bool:
        if _is_ping(body):
            return True
        given = headers.get(KEY_HEADER, "")
        return bool(given) and hmac.compare_digest(given.encode(), self.hook_key.encode())

    def read(self, headers: Mapping[str, str], body: bytes) -> Webhook:
        payload = _json(body)
        if payload == PING_BODY:
            return Webhook(topic=PING, delivery_id=None, payload=payload)
        if not isinstance(payload, dict):
            raise Unreadable("not a VTEX order hook (not an object)")
        order_id, state = text(payload.get("OrderId")), text(payload.get("State"))
        change = text(payload.get("CurrentChange"))
        if not order_id or not state or not change:
            raise Unreadable('a VTEX order hook names "OrderId", "State" and "CurrentChange"')
        return Webhook(topic=state, delivery_id=f"{order_id}:{state}:{change}", payload=payload)

    async def rows(self, webhook: Webhook, api: StoreApi) -> list[OrderRow] | None:
        if webhook.topic == PING or webhook.topic in IGNORED_STATES:
            return None
        order_id = quote(text(webhook.payload["OrderId"]), safe="")
        url = f"{self.base_url}/api/oms/pvt/orders/{order_id}"
        headers = {
            "X-VTEX-API-AppKey": self.app_key,
            "X-VTEX-API-AppToken": self.app_token,
            "Accept": "application/json",
        }
        return [order_row(await api.get_json(url, headers))]


def build(settings: Settings) -> Vtex | None:
    """The connector, when ``VTEX_HOOK_KEY`` is set (the settings then require the app key,
    its token and the account)."""
    if not settings.vtex_hook_key:
        return None
    return Vtex(
        hook_key=settings.vtex_hook_key,
        app_key=settings.vtex_app_key,
        app_token=settings.vtex_app_token,
        base_url=settings.vtex_base_url,
    )
