"""``POST /connect/<platform>`` before any platform is set up: clear 404s, nothing stored."""

from __future__ import annotations

from bot.app import Database
from tests.integration.store_helpers import count_orders, store_server


async def test_a_connector_that_is_off_names_its_setting(db: Database) -> None:
    # INGEST_SECRET alone starts the server; the connectors stay off.
    async with store_server(db, ingest_secret="ingest-key") as endpoint:
        status, answer = await endpoint.post("shopify", b'{"id": 1}', {})
        assert status == 404
        assert "SHOPIFY_WEBHOOK_SECRET" in answer["error"]
        status, answer = await endpoint.post("magento", b"{}", {})
        assert status == 404
        assert answer == {"error": "no store connector 'magento'"}
    assert await count_orders(db) == 0
    assert endpoint.woken == 0
