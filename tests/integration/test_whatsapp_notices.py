"""A delivery notice on WhatsApp: outside the 24-hour window it goes as the approved
``postsale_notice`` template, and the notice itself follows the customer's tap.

The real WhatsApp stack (``WhatsAppStack``: the channel, the engine, the outbox sender,
the HTTP server Meta posts to) against ``FakeCloudApi``; the order comes in through
``bot.api.record_orders``, as from a store connector, with the customer's phone only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.api import record_orders
from bot.app import Database
from storage.imports import ORDER_COLUMNS
from storage.models import DeliveryNotice
from tests.builders import Clock
from tests.fakes.cloud_api import FakeCloudApi
from tests.fakes.whatsapp_stack import WhatsAppStack, whatsapp_settings
from tests.integration.whatsapp_scenes import PHONE, WA_ID, Customer, body_text

TRACKING = "https://rastreio.example.com/BR987654321"


@pytest.fixture
def clock() -> Clock:
    return Clock()  # 12:00 in Sao Paulo


@pytest.fixture
async def cloud(clock: Clock) -> AsyncIterator[FakeCloudApi]:
    api = FakeCloudApi(clock=clock)
    api.url = await api.start()  # type: ignore[attr-defined]
    try:
        yield api
    finally:
        await api.close()


@pytest.fixture
async def stack(cloud: FakeCloudApi, db: Database, clock: Clock) -> AsyncIterator[WhatsAppStack]:
    settings = whatsapp_settings(cloud.url, default_timezone="America/Sao_Paulo")  # type: ignore[attr-defined]
    running = await WhatsAppStack(cloud, settings, db, clock).start()
    try:
        yield running
    finally:
        await running.stop()


async def test_a_notice_outside_the_window_goes_as_its_template_then_follows_the_tap(
    stack: WhatsAppStack, cloud: FakeCloudApi, db: Database, clock: Clock
) -> None:
    row = {name: "" for name in ORDER_COLUMNS}
    row.update(
        order_id="o1", customer_id="c1", purchased_at="2026-03-08 10:00", total="99.90",
        phone=PHONE, delivery_status="shipped", tracking_url=TRACKING,
        updated_at=clock().isoformat(),
    )  # fmt: skip
    result = await record_orders(db, [row], stack.settings, now=clock())
    assert not result.rejected, result.rejected
    await stack.scheduler.tick()
    await stack.flush()

    ana = Customer(stack, cloud, WA_ID, PHONE.lstrip("+"))
    template = ana.last().body
    assert template["type"] == "template"
    assert template["template"]["name"] == "postsale_notice"
    await ana.opens("Ver")
    notice = body_text(ana.last().body)
    assert "has shipped" in notice and TRACKING in notice
    async with db.uow() as uow:
        sent = (await uow.session.scalars(select(DeliveryNotice))).all()
    assert [(n.kind, n.status) for n in sent] == [("shipped", "sent")]
