"""Nuvemshop webhooks over real HTTP: signed bodies posted to the bot's own server, the
order fetched from a fake Nuvemshop API on loopback, the stored orders read back."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

from bot.app import Database
from bot.stores.nuvemshop import SIGNATURE_HEADER, sign
from bot.stores.nuvemshop_orders import add_weekdays
from storage.models import Customer
from tests.fakes.store_apis import NUVEMSHOP_TOKEN, FakeNuvemshop, fixture
from tests.integration.store_helpers import (
    StoreEndpoint,
    count_orders,
    store_server,
    stored_orders,
)

SECRET = "fake-nuvemshop-app-secret"
STORE = "123456"
ORDER = "450789469"


@pytest.fixture
async def nuvemshop() -> AsyncIterator[FakeNuvemshop]:
    fake = FakeNuvemshop(store_id=STORE)
    await fake.start()
    fake.put(fixture("nuvemshop_order"))
    try:
        yield fake
    finally:
        await fake.close()


def _server(db: Database, fake: FakeNuvemshop, **extra: Any) -> Any:
    assert fake._server is not None
    return store_server(
        db,
        nuvemshop_app_secret=SECRET,
        nuvemshop_access_token=NUVEMSHOP_TOKEN,
        nuvemshop_store_id=STORE,
        nuvemshop_api_url=f"http://127.0.0.1:{fake._server.port}/v1",
        nuvemshop_user_agent="postsale tests (ops@example.com)",
        **extra,
    )


def _event(event: str, order_id: str = ORDER, store: str = STORE) -> bytes:
    return json.dumps({"store_id": int(store), "event": event, "id": int(order_id)}).encode()


async def _post(
    endpoint: StoreEndpoint, body: bytes, signature: str | None = None
) -> tuple[int, dict[str, Any]]:
    headers = {SIGNATURE_HEADER: sign(SECRET, body) if signature is None else signature}
    return await endpoint.post("nuvemshop", body, headers)


async def test_a_paid_order_is_fetched_and_recorded(db: Database, nuvemshop: FakeNuvemshop) -> None:
    async with _server(db, nuvemshop) as endpoint:
        status, answer = await _post(endpoint, _event("order/paid"))
    assert (status, answer["added"]) == (200, 1), answer
    (order,) = await stored_orders(db)
    assert order.external_id == f"nuvemshop:{ORDER}"
    assert order.total_cents == 12990 and order.currency == "BRL"
    assert order.purchased_at == datetime(2025, 3, 3, 13, 15, tzinfo=UTC)
    assert order.delivered_at is None
    (seen,) = nuvemshop.requests
    assert seen.path == f"/v1/{STORE}/orders/{ORDER}"
    assert seen.headers["Authentication"] == f"bearer {NUVEMSHOP_TOKEN}"
    assert seen.headers["User-Agent"] == "postsale tests (ops@example.com)"
    assert endpoint.woken == 1


async def test_the_customer_comes_from_the_order(db: Database, nuvemshop: FakeNuvemshop) -> None:
    async with _server(db, nuvemshop) as endpoint:
        status, _ = await _post(endpoint, _event("order/created"))
    assert status == 200
    (order,) = await stored_orders(db)
    async with db.uow() as uow:
        customer = await uow.session.get(Customer, order.customer_id)
    assert customer is not None
    assert customer.external_id == "nuvemshop:207119551"
    assert (customer.name, customer.email) == ("Ana Souza", "ana.souza@example.com")
    assert customer.phone == "+5511987654321" and customer.locale == "pt-BR"


@pytest.mark.parametrize(
    "signature",
    ["", "00" * 32, sign(SECRET, b'{"store_id": 123456, "event": "order/paid", "id": 1}')],
    ids=["missing", "wrong", "of-another-body"],
)
async def test_a_bad_signature_is_401_and_nothing_is_fetched(
    db: Database, nuvemshop: FakeNuvemshop, signature: str
) -> None:
    async with _server(db, nuvemshop) as endpoint:
        status, answer = await _post(endpoint, _event("order/paid"), signature)
    assert status == 401 and "signature" in answer["error"]
    assert nuvemshop.requests == [] and await count_orders(db) == 0


async def test_a_replay_changes_nothing(db: Database, nuvemshop: FakeNuvemshop) -> None:
    body = _event("order/paid")
    async with _server(db, nuvemshop) as endpoint:
        first = await _post(endpoint, body)
        again = await _post(endpoint, body)
    assert first[1]["added"] == 1
    # No delivery id from Nuvemshop: the order is fetched again and found unchanged.
    assert again[0] == 200 and again[1]["added"] == again[1]["updated"] == 0, again
    assert again[1]["unchanged"] + again[1]["stale"] == 1
    assert await count_orders(db) == 1 and endpoint.woken == 1


async def test_a_late_replay_never_rolls_the_order_back(
    db: Database, nuvemshop: FakeNuvemshop
) -> None:
    order = fixture("nuvemshop_order")
    async with _server(db, nuvemshop) as endpoint:
        await _post(endpoint, _event("order/paid"))
        order.update(updated_at="2025-03-05T09:00:00-03:00", total="99.90")
        nuvemshop.put(order)
        await _post(endpoint, _event("order/updated"))
        # order/paid delivered again days later: the API gives the order as it is now.
        status, answer = await _post(endpoint, _event("order/paid"))
    assert status == 200 and answer["updated"] == 0
    (stored,) = await stored_orders(db)
    assert stored.total_cents == 9990


async def test_an_event_we_do_not_use_is_ignored_and_logged(
    db: Database, nuvemshop: FakeNuvemshop, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="postsale.stores")
    async with _server(db, nuvemshop) as endpoint:
        product = await _post(endpoint, _event("product/created"))
        cancelled = await _post(endpoint, _event("order/cancelled"))
    assert product == (200, {"ignored": "product/created"})
    assert cancelled == (200, {"ignored": "order/cancelled"})
    assert "'product/created' ignored" in caplog.text
    assert nuvemshop.requests == [] and await count_orders(db) == 0


async def test_another_stores_event_is_ignored(db: Database, nuvemshop: FakeNuvemshop) -> None:
    async with _server(db, nuvemshop) as endpoint:
        status, answer = await _post(endpoint, _event("order/paid", store="999"))
    assert (status, answer) == (200, {"ignored": "order/paid"})
    assert nuvemshop.requests == []


async def test_an_unreadable_body_is_400(db: Database, nuvemshop: FakeNuvemshop) -> None:
    async with _server(db, nuvemshop) as endpoint:
        not_json = await _post(endpoint, b"store_id=1&event=order/paid")
        no_id = await _post(endpoint, json.dumps({"store_id": 1, "event": "order/paid"}).encode())
    assert not_json[0] == 400 and "not JSON" in not_json[1]["error"]
    assert no_id[0] == 400 and '"id"' in no_id[1]["error"]
    assert await count_orders(db) == 0


async def test_a_fetch_failing_once_is_retried_and_recorded(
    db: Database, nuvemshop: FakeNuvemshop
) -> None:
    nuvemshop.fail_next(1)
    async with _server(db, nuvemshop) as endpoint:
        status, answer = await _post(endpoint, _event("order/paid"))
    assert (status, answer["added"]) == (200, 1)
    assert len(nuvemshop.requests) == 2


async def test_a_fetch_failing_always_is_503_and_the_next_delivery_records(
    db: Database, nuvemshop: FakeNuvemshop, caplog: pytest.LogCaptureFixture
) -> None:
    nuvemshop.fail_always = True
    async with _server(db, nuvemshop) as endpoint:
        status, answer = await _post(endpoint, _event("order/paid"))
        assert status == 503 and "send it again" in answer["error"]
        assert await count_orders(db) == 0
        nuvemshop.fail_always = False
        retried = await _post(endpoint, _event("order/paid"))
    assert retried[0] == 200 and retried[1]["added"] == 1
    assert NUVEMSHOP_TOKEN not in caplog.text and SECRET not in caplog.text


async def test_a_wrong_token_is_400_naming_the_answer(db: Database) -> None:
    fake = FakeNuvemshop(store_id=STORE, token="another-token")
    await fake.start()
    fake.put(fixture("nuvemshop_order"))
    try:
        async with _server(db, fake) as endpoint:
            status, answer = await _post(endpoint, _event("order/paid"))
    finally:
        await fake.close()
    assert status == 400 and "401" in answer["error"]
    assert await count_orders(db) == 0


async def test_a_shipped_then_delivered_order(db: Database, nuvemshop: FakeNuvemshop) -> None:
    order = fixture("nuvemshop_order")
    async with _server(db, nuvemshop) as endpoint:
        order.update(shipping_status="shipped", updated_at="2025-03-04T16:00:00-03:00")
        nuvemshop.put(order)
        await _post(endpoint, _event("order/fulfilled"))
        assert (await stored_orders(db))[0].delivered_at is None
        order["updated_at"] = "2025-03-07T12:00:00-03:00"
        order["fulfillment_orders"] = [
            {"id": "01HZX", "status": "DELIVERED", "updated_at": "2025-03-07T11:30:00-03:00"}
        ]
        nuvemshop.put(order)
        status, answer = await _post(endpoint, _event("order/updated"))
    assert (status, answer["updated"]) == (200, 1)
    (stored,) = await stored_orders(db)
    assert stored.delivered_at == datetime(2025, 3, 7, 14, 30, tzinfo=UTC)


async def test_the_delivery_columns(db: Database, nuvemshop: FakeNuvemshop) -> None:
    order = fixture("nuvemshop_order")
    order.update(
        shipping_status="shipped",
        shipping_tracking_url="https://rastreamento.example.com/BR123",
        updated_at="2025-03-04T16:00:00-03:00",
    )
    nuvemshop.put(order)
    async with _server(db, nuvemshop) as endpoint:
        await _post(endpoint, _event("order/fulfilled"))
    (stored,) = await stored_orders(db)
    assert stored.delivery_status == "shipped"
    assert stored.tracking_url == "https://rastreamento.example.com/BR123"
    # Paid on Monday 3 March, 5 weekdays at most: Monday 10 March.
    assert stored.estimated_delivery_at is not None
    assert stored.estimated_delivery_at.date() == date(2025, 3, 10)


def test_weekdays_skip_the_weekend() -> None:
    friday = date(2025, 3, 7)
    assert add_weekdays(friday, 1) == date(2025, 3, 10)
    assert add_weekdays(friday, 6) == date(2025, 3, 17)
