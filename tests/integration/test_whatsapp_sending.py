"""The outbox sender through the real WhatsApp channel to the fake Cloud API, on a real
database: Meta's refusals become the sender's neutral outcomes (one chat waits, the
channel pauses and operators hear of it, an undeliverable number is unreachable)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import Database
from bot.bootstrap import App, build_app
from bot.channels.registry import enabled_factories
from bot.settings import Settings
from storage.models import ChannelIdentity, Customer, OutboxMessage
from storage.outbox import enqueue
from storage.outbox_body import OutboxBody
from tests.builders import Clock, customer_with_delivered_order
from tests.fakes.cloud_api import APP_SECRET, TOKEN, VERIFY_TOKEN, FakeCloudApi
from tests.fakes.telegram_stack import FAST
from tests.fakes.wa_updates import PHONE_NUMBER_ID

A, B = "5511987650001", "5511987650002"


@pytest.fixture
async def api() -> AsyncIterator[FakeCloudApi]:
    fake = FakeCloudApi()
    fake.url = await fake.start()  # type: ignore[attr-defined]
    try:
        yield fake
    finally:
        await fake.close()


def settings(url: str) -> Settings:
    values: dict[str, Any] = {
        "default_locale": "en",
        "whatsapp_token": TOKEN,
        "whatsapp_phone_number_id": PHONE_NUMBER_ID,
        "whatsapp_app_secret": APP_SECRET,
        "whatsapp_verify_token": VERIFY_TOKEN,
        "whatsapp_api_url": url,
        "operator_ids": ["900"],
    }
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


class Running:
    def __init__(self, app: App) -> None:
        self.app, self.stop = app, asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Running:
        await self.app.channels["whatsapp"].open()
        self.task = asyncio.create_task(self.app.sender.run(self.stop))
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stop.set()
        assert self.task is not None
        async with asyncio.timeout(15):
            await self.task
        await self.app.channels["whatsapp"].close()


async def queue(db: Database, chat_id: str, customer_id: int, text: str, clock: Clock) -> None:
    async with db.uow() as uow:
        await enqueue(
            uow.session,
            channel="whatsapp",
            chat_id=chat_id,
            body=OutboxBody(text),
            purpose="invitation",
            now=clock(),
            customer_id=customer_id,
        )
        await uow.commit()


async def rows(db: Database, **where: Any) -> list[OutboxMessage]:
    async with db.uow() as uow:
        found = await uow.session.scalars(
            select(OutboxMessage).filter_by(**where).order_by(OutboxMessage.id)
        )
        return list(found)


async def test_a_pair_limit_makes_only_that_chat_wait(api: FakeCloudApi, db: Database) -> None:
    clock = Clock()
    app = build_app(db, settings(api.url), enabled_factories(settings(api.url)), clock, limits=FAST)  # type: ignore[attr-defined]
    first, _, _ = await customer_with_delivered_order(db, "a", chat_id=A, channel="whatsapp")
    second, _, _ = await customer_with_delivered_order(db, "b", chat_id=B, channel="whatsapp")
    api.fail_next(131056, to=A)
    async with Running(app):
        app.sender.wake()
        await queue(db, A, first, "to A", clock)
        await queue(db, B, second, "to B", clock)
        app.sender.wake()
        await api.wait_until(lambda: len(api.messages(to=B)) == 1)
        assert api.messages(to=A) == []  # refused once; waiting its 6 seconds
        assert [r.status for r in await rows(db, chat_id=A)] == ["queued"]
        await api.wait_until(lambda: len(api.messages(to=A)) == 1, within=15)
    assert app.sender.stats.rate_limited == 1
    assert [r.status for r in await rows(db, channel="whatsapp")] == ["sent", "sent"]


async def test_the_spam_limit_pauses_sending_keeps_the_message_and_tells_operators_once(
    api: FakeCloudApi, db: Database
) -> None:
    clock = Clock()
    app = build_app(db, settings(api.url), enabled_factories(settings(api.url)), clock, limits=FAST)  # type: ignore[attr-defined]
    first, _, _ = await customer_with_delivered_order(db, "a", chat_id=A, channel="whatsapp")
    second, _, _ = await customer_with_delivered_order(db, "b", chat_id=B, channel="whatsapp")
    api.fail_next(131048, times=5)
    async with Running(app):
        await queue(db, A, first, "to A", clock)
        app.sender.wake()
        async with asyncio.timeout(10):
            while app.sender.stats.halted == 0:  # noqa: ASYNC110 (the sender took it: paused)
                await asyncio.sleep(0.01)
        await queue(db, B, second, "to B", clock)
        app.sender.wake()
        await asyncio.sleep(1.0)  # the channel is paused: B waits too
        assert len(api.refused()) == 1 and api.messages() == []
    assert app.sender.stats.halted == 1
    assert [r.status for r in await rows(db, channel="whatsapp")] == ["queued", "queued"]
    alerts = await rows(db, channel="telegram", purpose="alert")
    assert len(alerts) == 1
    assert "Sending on whatsapp is paused" in alerts[0].body["text"]
    assert "131048" in alerts[0].body["text"]


async def test_an_undeliverable_number_fails_and_is_unreachable_on_whatsapp_only(
    api: FakeCloudApi, db: Database
) -> None:
    clock = Clock()
    app = build_app(db, settings(api.url), enabled_factories(settings(api.url)), clock, limits=FAST)  # type: ignore[attr-defined]
    customer_id, _, _ = await customer_with_delivered_order(db, "a", chat_id="100")
    async with db.uow() as uow:
        uow.session.add(
            ChannelIdentity(
                customer_id=customer_id, channel="whatsapp", chat_id=A, linked_at=clock()
            )
        )
        await uow.commit()
    api.fail_next(131026, to=A)
    async with Running(app):
        await queue(db, A, customer_id, "to A", clock)
        app.sender.wake()
        await api.wait_until(lambda: len(api.refused()) == 1)
        for _ in range(100):
            if (await rows(db, chat_id=A))[0].status != "queued":
                break
            await asyncio.sleep(0.05)
    row = (await rows(db, chat_id=A))[0]
    assert row.status == "failed" and "131026" in (row.error or "")
    async with db.uow() as uow:
        identity = await uow.session.scalar(
            select(ChannelIdentity).where(ChannelIdentity.channel == "whatsapp")
        )
        customer = await uow.session.get(Customer, customer_id)
    assert identity is not None and identity.unreachable_at is not None
    assert customer is not None and customer.unreachable_at is None  # Telegram still works
