"""What a store connector is: verify a webhook, read it, turn it into order rows.

Each platform is one module (``bot.stores.shopify`` ...) with one ``Connector``; the
generic handler (``bot.stores.webhooks``) does the rest the same way for all: the body
limit, 401 on a bad signature before anything is read, replays recorded once, an
unknown event answered 200 and logged, an order fetch that failed answered 503 so the
platform delivers again.

An order row is a mapping with the fields of the orders CSV (INTERFACE.md):
``order_id``, ``customer_id``, ``purchased_at`` required; ``customer_name``, ``phone``,
``email``, ``locale``, ``timezone``, ``total`` (decimal string), ``currency``,
``delivered_at``, ``estimated_delivery_at``, ``delivery_status`` (shipped,
out_for_delivery, delivered, delivery_failed), ``tracking_url`` and ``updated_at``
(the platform's version of the order: an older one never overwrites a newer one).

A row may lack ``customer_id`` and ``purchased_at`` (``is_partial``) when the event
names an order it does not carry (a shipment): the handler completes it from the
stored order, else from the platform's API (a connector that ``FetchesOrders``), else
answers which orders it does not know (``bot.stores.completion``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

OrderRow = dict[str, Any]


@dataclass(frozen=True)
class Webhook:
    """One verified request, read: the platform's event name, its delivery id, its JSON."""

    topic: str
    delivery_id: str | None
    payload: Any


class Unreadable(Exception):
    """The body is not what the platform sends (not JSON, fields missing): 400."""


class FetchFailed(Exception):
    """The platform's API did not give the order (network, 5xx, 429): 503, sent again."""


class StoreApi(Protocol):
    """The HTTP client connectors fetch orders with (``bot.stores.http.StoreHttp``)."""

    async def get_json(self, url: str, headers: Mapping[str, str]) -> Any:
        """The JSON at ``url``; ``FetchFailed`` after a retry, ``Unreadable`` on a 4xx."""
        ...


class Connector(Protocol):
    """One store platform. ``name`` is its path's last part: ``POST /connect/<name>``."""

    name: str
    # The platform's API (and webhook format) version this connector follows.
    api_version: str

    def verify(self, headers: Mapping[str, str], body: bytes) -> bool:
        """Whether the request is signed by the store (constant-time)."""
        ...

    def read(self, headers: Mapping[str, str], body: bytes) -> Webhook:
        """The event of a verified request; ``Unreadable`` when it is not one."""
        ...

    async def rows(self, webhook: Webhook, api: StoreApi) -> list[OrderRow] | None:
        """The order rows the event means (fetched when it carries only an id); None for
        an event that means nothing to us (answered 200, logged)."""
        ...


def is_partial(row: OrderRow) -> bool:
    """Whether the row lacks the customer and purchase its order must be completed with."""
    return not row.get("customer_id") or not row.get("purchased_at")


@runtime_checkable
class FetchesOrders(Protocol):
    """A connector that can ask the platform for an order a partial row names."""

    async def fetch_order(self, row: OrderRow, api: StoreApi) -> OrderRow | None:
        """The order of the partial ``row``, complete, from the platform's API (with the
        row's own news kept); None when the API is not configured; ``FetchFailed`` when
        the platform did not answer."""
        ...
