"""``POST /connect/<platform>`` before any platform is set up: clear 404s, nothing stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.app import Database
from storage.webhook_deliveries import forget_older, note_recorded, was_recorded
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


async def test_delivery_ids_older_than_a_week_are_forgotten_and_newer_ones_kept(
    db: Database,
) -> None:
    now = datetime(2026, 3, 10, 12, tzinfo=UTC)
    async with db.uow() as uow:
        assert await note_recorded(uow.session, "shopify", "old", now - timedelta(days=8))
        assert await note_recorded(uow.session, "shopify", "new", now - timedelta(days=6))
        assert not await note_recorded(uow.session, "shopify", "new", now)  # a replay
        await uow.commit()
    async with db.uow() as uow:
        assert await forget_older(uow.session, now - timedelta(days=7)) == 1
        await uow.commit()
    async with db.uow() as uow:
        kept = [await was_recorded(uow.session, "shopify", i) for i in ("old", "new")]
    assert kept == [False, True]
