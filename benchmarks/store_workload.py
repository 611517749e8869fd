"""The requests ``benchmarks.store_webhooks`` sends: Shopify's order and fulfillment
webhooks, signed, or the same rows for ``POST /ingest/orders``; 2% exact replays.

One seeded plan for both doors: order ``n`` goes to client ``n % clients``; its
fulfillment (delivered, for the first 15%) follows from the same client one to six
requests later, so its order is stored by then; a replay repeats an earlier request of
the same client, later on. Times are near now: no follow-up falls due meanwhile.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.entrypoints.http import ingest
from bot.stores.shopify import sign
from bot.stores.shopify_orders import fulfillment_fields, order_row
from tests.integration.store_fixtures import fixture

SHOPIFY_SECRET = "bench-shopify-secret"
INGEST_SECRET = "bench-ingest-secret"


@dataclass(frozen=True)
class Post:
    """One request: its path, body and headers; ``replay`` when it repeats an earlier one."""

    path: str
    body: bytes
    headers: dict[str, str]
    replay: bool = False
    kind: str = "order"


def _shopify_events(n: int, fulfilled: bool, now: datetime) -> tuple[dict[str, Any], ...]:
    made = now - timedelta(days=3)
    order = fixture(
        "shopify_order.json",
        id=1_000_000 + n,
        created_at=made.isoformat(),
        processed_at=made.isoformat(),
        updated_at=(made + timedelta(seconds=2)).isoformat(),
        customer={**fixture("shopify_order.json")["customer"], "id": 5_000_000 + n,
                  "phone": f"+55119{n:08d}"},
    )  # fmt: skip
    if not fulfilled:
        return (order,)
    delivered = (now - timedelta(minutes=1)).isoformat()
    event = fixture(
        "shopify_fulfillment.json",
        id=2_000_000 + n,
        order_id=1_000_000 + n,
        shipment_status="delivered",
        updated_at=delivered,
    )
    return order, event


def _shopify_post(payload: dict[str, Any], topic: str, delivery: str) -> Post:
    body = json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Hmac-Sha256": sign(SHOPIFY_SECRET, body),
        "X-Shopify-Topic": topic,
        "X-Shopify-Webhook-Id": delivery,
        "X-Shopify-API-Version": "2025-01",
    }
    return Post("/connect/shopify", body, headers, kind=topic.split("/")[0])


def _ingest_post(row: dict[str, Any], kind: str) -> Post:
    body = json.dumps(row).encode()
    stamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        ingest.TIMESTAMP_HEADER: str(stamp),
        ingest.SIGNATURE_HEADER: ingest.sign(INGEST_SECRET, body, stamp),
    }
    return Post(ingest.PATH, body, headers, kind=kind)


def _posts(n: int, events: tuple[dict[str, Any], ...], door: str) -> list[Post]:
    """Order ``n``'s requests through ``door``: its creation, then its fulfillment."""
    if door == "shopify":
        posts = [_shopify_post(events[0], "orders/create", f"o-{n}")]
        if len(events) > 1:
            posts.append(_shopify_post(events[1], "fulfillments/update", f"f-{n}"))
        return posts
    row = order_row(events[0]) or {}
    posts = [_ingest_post(row, "orders")]
    if len(events) > 1:
        # The row the connector makes of it, completed from the order, as a store would push.
        shipped = {**row, **fulfillment_fields(events[1]), "updated_at": events[1]["updated_at"]}
        posts.append(_ingest_post(shipped, "fulfillments"))
    return posts


def workload(requests: int, clients: int, door: str) -> list[list[Post]]:
    """Each client's requests, in order: orders, their fulfillments a few requests
    later (same client), and 2% replays; the same plan (seeded) for both doors."""
    rng, now = random.Random(17), datetime.now(UTC)
    replays, fulfillments = requests // 50, requests * 15 // 100
    orders = requests - replays - fulfillments
    work: list[list[Post]] = [[] for _ in range(clients)]
    pending: list[list[tuple[int, Post]]] = [[] for _ in range(clients)]
    for n in range(orders):
        c, events = n % clients, _shopify_events(n, n < fulfillments, now)
        posts = _posts(n, events, door)
        work[c].append(posts[0])
        if len(posts) > 1:
            pending[c].append((len(work[c]) + rng.randint(1, 6), posts[1]))
        while pending[c] and pending[c][0][0] <= len(work[c]):
            work[c].append(pending[c].pop(0)[1])
    for c in range(clients):
        work[c].extend(post for _, post in pending[c])
    for _ in range(replays):
        seq = work[rng.randrange(clients)]
        first = rng.randrange(len(seq))
        original = seq[first]
        seq.insert(rng.randint(first + 1, len(seq)), replace(original, replay=True))
    return work
