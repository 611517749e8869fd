"""Sharing a phone number that several customer records hold links the latest buyer."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.app import Database
from bot.bootstrap import build_core
from bot.settings import Settings
from flows.events import ContactIn
from storage.models import ChannelIdentity, Customer
from tests.builders import T0, Clock, customer_with_delivered_order, incoming
from tests.integration.test_engine import outbox

PHONE = "+5511987654321"


async def test_a_phone_two_customers_share_links_the_latest_buyer_and_says_so(
    db: Database,
) -> None:
    settings = Settings(_env_file=None, default_locale="en")  # type: ignore[call-arg]
    engine = build_core(db, settings, Clock(), operator_commands=False).pipeline
    await customer_with_delivered_order(db, "c-old", chat_id=None, phone=PHONE, now=T0)
    await customer_with_delivered_order(
        db, "c-new", chat_id=None, phone=PHONE, now=T0 + timedelta(days=2)
    )
    await customer_with_delivered_order(
        db, "c-older", chat_id=None, phone=PHONE, now=T0 - timedelta(days=40)
    )

    await engine.handle(incoming(ContactIn(PHONE), chat_id="200"))

    async with db.uow() as uow:
        linked = await uow.session.scalar(
            select(Customer.external_id)
            .join(ChannelIdentity, ChannelIdentity.customer_id == Customer.id)
            .where(ChannelIdentity.chat_id == "200")
        )
    assert linked == "c-new"
    texts = [body["text"] for body in await outbox(db, "200")]
    assert texts[0].startswith("Welcome, Ana!")
    assert texts[1].startswith("More than one account uses this phone number")


async def test_a_phone_only_one_customer_holds_links_without_a_note(db: Database) -> None:
    settings = Settings(_env_file=None, default_locale="en")  # type: ignore[call-arg]
    engine = build_core(db, settings, Clock(), operator_commands=False).pipeline
    await customer_with_delivered_order(db, "c-1", chat_id=None, phone=PHONE)

    await engine.handle(incoming(ContactIn(PHONE), chat_id="200"))

    texts = [body["text"] for body in await outbox(db, "200")]
    assert len(texts) == 1 and texts[0].startswith("Welcome, Ana!")
