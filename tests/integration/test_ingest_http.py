"""``POST /ingest/orders`` over real HTTP: signed bodies are stored once, the rest refused."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.app import Database
from bot.entrypoints.http.app import start_http_server
from bot.entrypoints.http.ingest import MAX_BODY, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from storage.models import Customer, Order
from tests.fakes.telegram_stack import telegram_settings

SECRET = "ingest-key"
ORDER = {
    "order_id": "A-1",
    "customer_id": "C-9",
    "customer_name": "Bea",
    "phone": "(11) 98765-4321",
    "purchased_at": "2026-11-20T10:00:00-03:00",
    "delivered_at": "2026-11-22T15:00",
    "total": "129.90",
    "currency": "BRL",
}


class Endpoint:
    def __init__(self, url: str, client: aiohttp.ClientSession) -> None:
        self.url, self.client = url, client
        self.woken = 0

    async def post(
        self, body: Any, signature: str | None, timestamp: int | str | None = None
    ) -> tuple[int, dict[str, Any]]:
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: str(timestamp or unix_now()),
        }
        if signature is not None:
            headers[SIGNATURE_HEADER] = signature
        async with self.client.post(self.url, data=body, headers=headers) as response:
            return response.status, await response.json()

    async def signed(self, payload: Any) -> tuple[int, dict[str, Any]]:
        body = json.dumps(payload).encode()
        return await self.post(body, sign(SECRET, body, unix_now()))


def unix_now() -> int:
    return int(time.time())


@pytest.fixture
async def endpoint(db: Database) -> AsyncIterator[Endpoint]:
    settings = telegram_settings(
        "http://127.0.0.1:9",
        "aiogram",
        ingest_secret=SECRET,
        http_port=0,
        default_locale="pt-BR",  # a phone without +55 is read as Brazilian
    )
    holder: list[Endpoint] = []

    def woken() -> None:
        holder[0].woken += 1

    http = await start_http_server(settings, db, {}, on_orders=woken)
    assert http is not None
    host, port = http.addresses[0][:2]
    async with aiohttp.ClientSession() as client:
        holder.append(Endpoint(f"http://{host}:{port}/ingest/orders", client))
        try:
            yield holder[0]
        finally:
            await http.cleanup()


async def count(db: Database, model: type) -> int:
    async with db.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_signed_order_is_stored_and_a_replay_changes_nothing(
    endpoint: Endpoint, db: Database
) -> None:
    status, result = await endpoint.signed(ORDER)
    assert status == 200
    assert (result["added"], result["rejected"]) == (1, 0)
    assert endpoint.woken == 1  # the running bot's sender and scheduler are told
    async with db.uow() as uow:
        order = (await uow.session.scalars(select(Order))).one()
        customer = await uow.session.get(Customer, order.customer_id)
        assert order.total_cents == 12990
        assert order.delivered_at is not None and order.delivered_at.utcoffset() is not None
        assert customer is not None and customer.phone == "+5511987654321"

    status, again = await endpoint.signed([ORDER])
    assert status == 200
    assert (again["added"], again["updated"], again["unchanged"]) == (0, 0, 1)
    assert endpoint.woken == 1
    assert (await count(db, Order), await count(db, Customer)) == (1, 1)


async def test_a_changed_order_is_updated_and_bad_rows_are_named(
    endpoint: Endpoint, db: Database
) -> None:
    await endpoint.signed(ORDER)
    status, result = await endpoint.signed(
        [{**ORDER, "total": "99.00"}, {**ORDER, "order_id": "A-2", "total": "-1"}]
    )
    assert status == 200
    assert (result["added"], result["updated"], result["rejected"]) == (0, 1, 1)
    assert result["rejections"][0]["line"] == 2
    assert "total" in result["rejections"][0]["reason"]


@pytest.mark.parametrize(
    "signature",
    [None, "", "sha256=" + "0" * 64, sign("another-key", json.dumps(ORDER).encode(), unix_now())],
    ids=["missing", "empty", "wrong", "other-key"],
)
async def test_a_bad_or_missing_signature_is_refused_and_nothing_is_read(
    endpoint: Endpoint, db: Database, signature: str | None
) -> None:
    status, result = await endpoint.post(json.dumps(ORDER).encode(), signature)
    assert status == 401
    assert SIGNATURE_HEADER in result["error"]
    assert await count(db, Order) == 0


async def test_a_body_changed_after_signing_is_refused(endpoint: Endpoint, db: Database) -> None:
    body = json.dumps(ORDER).encode()
    tampered = body.replace(b"129.90", b"1.00")
    status, _ = await endpoint.post(tampered, sign(SECRET, body, unix_now()))
    assert status == 401
    assert await count(db, Order) == 0


@pytest.mark.parametrize(
    ("body", "words"),
    [(b"{not json", "malformed JSON"), (b"[]", "expected"), (b"[1, 2]", "expected")],
)
async def test_signed_nonsense_gets_a_400_that_says_why(
    endpoint: Endpoint, db: Database, body: bytes, words: str
) -> None:
    status, result = await endpoint.post(body, sign(SECRET, body, unix_now()))
    assert status == 400
    assert words in result["error"]
    assert await count(db, Order) == 0


async def test_a_body_over_the_limit_is_refused_before_it_is_read(endpoint: Endpoint) -> None:
    body = b"[" + b" " * (MAX_BODY + 1) + b"]"
    status, result = await endpoint.post(body, sign(SECRET, body, unix_now()))
    assert status == 413
    assert "larger" in result["error"]


async def test_a_body_signed_without_a_timestamp_is_refused(
    endpoint: Endpoint, db: Database
) -> None:
    body = json.dumps(ORDER).encode()
    old_form = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    status, result = await endpoint.post(body, old_form)
    assert status == 401
    assert TIMESTAMP_HEADER in result["error"]
    assert await count(db, Order) == 0


@pytest.mark.parametrize("age", [-301, 301], ids=["from-the-future", "too-old"])
async def test_a_signed_request_outside_the_replay_window_is_refused(
    endpoint: Endpoint, db: Database, age: int
) -> None:
    body = json.dumps(ORDER).encode()
    sent = unix_now() - age
    status, _ = await endpoint.post(body, sign(SECRET, body, sent), sent)
    assert status == 401
    assert await count(db, Order) == 0


@pytest.mark.parametrize("stamp", ["\u00b2", "9" * 5000, "-5", "1.5e9"])
async def test_a_timestamp_that_is_not_unix_seconds_is_refused(
    endpoint: Endpoint, db: Database, stamp: str
) -> None:
    body = json.dumps(ORDER).encode()
    status, result = await endpoint.post(body, sign(SECRET, body, stamp), stamp)
    assert status == 401
    assert TIMESTAMP_HEADER in result["error"]


async def test_replaying_an_older_event_never_rolls_the_order_back(
    endpoint: Endpoint, db: Database
) -> None:
    first = {**ORDER, "delivered_at": "", "updated_at": "2026-11-20T10:00:00-03:00"}
    second = {
        **ORDER,
        "phone": "+55 21 99974-2028",
        "delivered_at": "2026-11-22T15:00",
        "updated_at": "2026-11-22T15:00",
    }
    assert (await endpoint.signed(first))[1]["added"] == 1
    assert (await endpoint.signed(second))[1]["updated"] == 1
    status, replay = await endpoint.signed(first)
    assert status == 200
    assert (replay["updated"], replay["stale"]) == (0, 1)
    # A row without updated_at is applied, but its missing delivery clears nothing.
    status, unversioned = await endpoint.signed({**second, "delivered_at": "", "updated_at": ""})
    assert (unversioned["updated"], unversioned["unchanged"]) == (0, 1)
    async with db.uow() as uow:
        order = (await uow.session.scalars(select(Order))).one()
        customer = await uow.session.get(Customer, order.customer_id)
        assert order.delivered_at is not None
        assert order.source_updated_at is not None
        assert customer is not None and customer.phone == "+5521999742028"


async def test_a_chunked_body_over_the_limit_gets_a_json_413(
    endpoint: Endpoint, db: Database
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"["
        for _ in range(MAX_BODY // 65536 + 2):
            yield b" " * 65536
        yield b"]"

    status, result = await endpoint.post(chunks(), "sha256=" + "0" * 64)
    assert status == 413
    assert "larger" in result["error"]
    assert await count(db, Order) == 0


async def test_a_body_over_aiohttps_own_limit_gets_a_json_413(endpoint: Endpoint) -> None:
    body = b"[" + b" " * (9 * 1024 * 1024) + b"]"
    status, result = await endpoint.post(body, sign(SECRET, body, unix_now()))
    assert status == 413
    assert "larger" in result["error"]


async def test_ingested_ids_that_are_not_text_are_rejected_and_nul_text_is_cleaned(
    endpoint: Endpoint, db: Database
) -> None:
    items = [
        {**ORDER, "order_id": ["list"]},
        {**ORDER, "order_id": "A-2", "customer_name": "Bea\u0000 Lima"},
    ]
    status, result = await endpoint.signed(items)
    assert status == 200
    assert (result["added"], result["rejected"]) == (1, 1)
    assert result["rejections"] == [
        {"line": 1, "reason": "order_id must be text or a whole number, not a list"}
    ]
    async with db.uow() as uow:
        assert list(await uow.session.scalars(select(Order.external_id))) == ["A-2"]
        assert list(await uow.session.scalars(select(Customer.name))) == ["Bea Lima"]


async def test_far_off_dates_a_repeated_order_and_surrogates_are_answered_row_by_row(
    endpoint: Endpoint, db: Database
) -> None:
    items = [
        {**ORDER, "order_id": "A-1", "delivered_at": "9999-12-31T23:00:00+00:00"},
        {**ORDER, "order_id": "A-2", "purchased_at": "0001-01-01T00:00:00+05:00"},
        {**ORDER, "order_id": "A-3", "total": "1.00"},
        {**ORDER, "order_id": "A-3", "total": "2.00", "customer_name": "Bea \ud800"},
    ]
    status, result = await endpoint.signed(items)
    assert status == 200
    assert (result["added"], result["rejected"]) == (1, 3)
    assert result["rejections"] == [
        {"line": 1, "reason": "delivered_at '9999-12-31T23:00:00+00:00' is in the future"},
        {"line": 2, "reason": "purchased_at '0001-01-01T00:00:00+05:00' is out of range"},
        {"line": 3, "reason": "order_id repeated on line 4, the row kept"},
    ]
    async with db.uow() as uow:
        order = (await uow.session.scalars(select(Order))).one()
        customer = await uow.session.get(Customer, order.customer_id)
        assert (order.external_id, order.total_cents) == ("A-3", 200)
        assert customer is not None and customer.name == "Bea \ufffd"
    status, again = await endpoint.signed(items)
    assert (again["added"], again["updated"], again["unchanged"]) == (0, 0, 1)
