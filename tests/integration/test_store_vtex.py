"""VTEX order hooks over real HTTP: hook bodies posted to the bot's own server with the
hook key, the order fetched from a fake VTEX OMS on loopback, the stored orders read
back."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.app import Database
from bot.stores.vtex import KEY_HEADER
from storage.models import Customer
from tests.fakes.store_apis import VTEX_APP_KEY, VTEX_APP_TOKEN, FakeVtex, fixture
from tests.integration.store_helpers import (
    StoreEndpoint,
    count_orders,
    store_server,
    stored_orders,
)

HOOK_KEY = "fake-vtex-hook-key-3"
ORDER = "v5195004lux-01"


@pytest.fixture
async def vtex() -> AsyncIterator[FakeVtex]:
    fake = FakeVtex()
    await fake.start()
    fake.put(fixture("vtex_order"))
    try:
        yield fake
    finally:
        await fake.close()


def _server(db: Database, fake: FakeVtex) -> Any:
    assert fake._server is not None
    return store_server(
        db,
        vtex_hook_key=HOOK_KEY,
        vtex_app_key=VTEX_APP_KEY,
        vtex_app_token=VTEX_APP_TOKEN,
        vtex_account="acme",
        vtex_api_url=f"http://127.0.0.1:{fake._server.port}",
    )


def _hook(state: str, change: str = "2025-03-03T13:57:33.0750364Z", last: str = "") -> bytes:
    return json.dumps(
        {
            "Domain": "Marketplace",
            "OrderId": ORDER,
            "State": state,
            "LastState": last or "window-to-cancel",
            "LastChange": "2025-03-03T13:50:00.0000000Z",
            "CurrentChange": change,
            "Origin": {"Account": "acme", "Key": "vtexappkey-acme-FAKE"},
        }
    ).encode()


async def _post(
    endpoint: StoreEndpoint, body: bytes, key: str | None = HOOK_KEY
) -> tuple[int, dict[str, Any]]:
    return await endpoint.post("vtex", body, {} if key is None else {KEY_HEADER: key})


def _invoiced(package: dict[str, Any], last_change: str) -> dict[str, Any]:
    order = fixture("vtex_order")
    order.update(status="invoiced", lastChange=last_change)
    order["packageAttachment"]["packages"] = [package]
    return order


async def test_the_configuration_ping_is_answered_200(db: Database, vtex: FakeVtex) -> None:
    async with _server(db, vtex) as endpoint:
        keyed = await _post(endpoint, b'{"hookConfig":"ping"}')
        bare = await _post(endpoint, b'{"hookConfig": "ping"}', key=None)
    assert keyed == bare == (200, {"ignored": "ping"})
    assert vtex.requests == [] and await count_orders(db) == 0


async def test_an_order_is_fetched_and_recorded(db: Database, vtex: FakeVtex) -> None:
    async with _server(db, vtex) as endpoint:
        status, answer = await _post(endpoint, _hook("ready-for-handling"))
    assert (status, answer["added"]) == (200, 1), answer
    (order,) = await stored_orders(db)
    assert order.external_id == f"vtex:{ORDER}"
    assert (order.total_cents, order.currency) == (106714, "BRL")
    assert order.purchased_at == datetime(2025, 3, 3, 13, 19, 14, 661058, tzinfo=UTC)
    async with db.uow() as uow:
        customer = await uow.session.get(Customer, order.customer_id)
    assert customer is not None
    assert customer.external_id == "vtex:5a3692de-358a-4bea-8885-044bce33bb93"
    assert (customer.name, customer.phone) == ("João Lima", "+5521998765432")
    assert customer.locale == "pt-BR"
    (seen,) = vtex.requests
    assert seen.path == f"/api/oms/pvt/orders/{ORDER}"
    assert seen.headers["X-VTEX-API-AppKey"] == VTEX_APP_KEY
    assert seen.headers["X-VTEX-API-AppToken"] == VTEX_APP_TOKEN


@pytest.mark.parametrize("key", [None, "", "not-the-key"], ids=["missing", "empty", "wrong"])
async def test_a_bad_key_is_401_and_nothing_is_fetched(
    db: Database, vtex: FakeVtex, key: str | None
) -> None:
    async with _server(db, vtex) as endpoint:
        status, answer = await _post(endpoint, _hook("invoiced"), key=key)
    assert status == 401 and "signature" in answer["error"]
    assert vtex.requests == [] and await count_orders(db) == 0


async def test_a_ping_lookalike_does_not_pass_without_the_key(db: Database, vtex: FakeVtex) -> None:
    body = json.dumps({"hookConfig": "ping", **json.loads(_hook("invoiced"))}).encode()
    async with _server(db, vtex) as endpoint:
        status, _ = await _post(endpoint, body, key=None)
    # Only the bare ping may come without the key; with an order in it, it is a hook.
    assert status == 401
    assert vtex.requests == [] and await count_orders(db) == 0


async def test_the_same_change_twice_is_recorded_once(db: Database, vtex: FakeVtex) -> None:
    body = _hook("ready-for-handling")
    async with _server(db, vtex) as endpoint:
        first = await _post(endpoint, body)
        again = await _post(endpoint, body)
        later = await _post(endpoint, _hook("handling", change="2025-03-03T15:00:00Z"))
    assert first[1]["added"] == 1
    assert again == (200, {"duplicate": True})
    assert later[0] == 200 and "duplicate" not in later[1]
    assert len(vtex.requests) == 2 and await count_orders(db) == 1


async def test_a_cancelled_order_is_ignored_and_logged(
    db: Database, vtex: FakeVtex, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="postsale.stores")
    async with _server(db, vtex) as endpoint:
        status, answer = await _post(endpoint, _hook("canceled"))
    assert (status, answer) == (200, {"ignored": "canceled"})
    assert "'canceled' ignored" in caplog.text
    assert vtex.requests == [] and await count_orders(db) == 0


async def test_an_unreadable_hook_is_400(db: Database, vtex: FakeVtex) -> None:
    async with _server(db, vtex) as endpoint:
        not_json = await _post(endpoint, b"OrderId=v1")
        no_state = await _post(endpoint, json.dumps({"OrderId": ORDER}).encode())
    assert not_json[0] == 400 and "not JSON" in not_json[1]["error"]
    assert no_state[0] == 400 and '"State"' in no_state[1]["error"]
    assert await count_orders(db) == 0


async def test_an_unknown_order_is_400(db: Database, vtex: FakeVtex) -> None:
    vtex.orders.clear()
    async with _server(db, vtex) as endpoint:
        status, answer = await _post(endpoint, _hook("invoiced"))
    assert status == 400 and "404" in answer["error"]


async def test_a_fetch_failing_once_is_retried_and_recorded(db: Database, vtex: FakeVtex) -> None:
    vtex.fail_next(1)
    async with _server(db, vtex) as endpoint:
        status, answer = await _post(endpoint, _hook("ready-for-handling"))
    assert (status, answer["added"]) == (200, 1)
    assert len(vtex.requests) == 2


async def test_a_fetch_failing_always_is_503_and_vtexs_retry_is_recorded(
    db: Database, vtex: FakeVtex, caplog: pytest.LogCaptureFixture
) -> None:
    vtex.fail_always = True
    body = _hook("ready-for-handling")
    async with _server(db, vtex) as endpoint:
        status, answer = await _post(endpoint, body)
        assert status == 503 and "send it again" in answer["error"]
        assert await count_orders(db) == 0
        vtex.fail_always = False
        retried = await _post(endpoint, body)  # the same delivery: not noted, so recorded
    assert retried[0] == 200 and retried[1]["added"] == 1
    for secret in (HOOK_KEY, VTEX_APP_TOKEN):
        assert secret not in caplog.text


async def test_a_delivered_package_dates_the_delivery(db: Database, vtex: FakeVtex) -> None:
    vtex.put(_invoiced(fixture("vtex_package_delivered"), "2025-03-07T16:00:00.0000000+00:00"))
    async with _server(db, vtex) as endpoint:
        status, answer = await _post(endpoint, _hook("invoiced"))
    assert (status, answer["added"]) == (200, 1)
    (order,) = await stored_orders(db)
    assert order.delivered_at == datetime(2025, 3, 7, 15, 44, tzinfo=UTC)


async def test_an_unfinished_package_is_not_a_delivery(db: Database, vtex: FakeVtex) -> None:
    package = fixture("vtex_package_delivered")
    package["courierStatus"] = {"status": "ok", "finished": False, "data": []}
    vtex.put(_invoiced(package, "2025-03-05T10:00:00+00:00"))
    async with _server(db, vtex) as endpoint:
        await _post(endpoint, _hook("invoiced"))
    (order,) = await stored_orders(db)
    assert order.delivered_at is None


async def test_the_delivery_columns(db: Database, vtex: FakeVtex) -> None:
    package = fixture("vtex_package_delivered")
    package["courierStatus"] = {"status": "ok", "finished": False, "data": []}
    vtex.put(_invoiced(package, "2025-03-05T10:00:00+00:00"))
    async with _server(db, vtex) as endpoint:
        await _post(endpoint, _hook("invoiced"))
        shipped = (await stored_orders(db))[0]
        vtex.put(_invoiced(fixture("vtex_package_delivered"), "2025-03-07T16:00:00+00:00"))
        await _post(endpoint, _hook("invoiced", change="2025-03-07T16:00:00Z"))
    assert shipped.delivery_status == "shipped"
    assert shipped.tracking_url == "https://tracking.example.com/TX834"
    assert shipped.estimated_delivery_at == datetime(2025, 3, 10, 13, 19, 14, 661058, tzinfo=UTC)
    (delivered,) = await stored_orders(db)
    assert delivered.delivery_status == "delivered"
