"""The customer journeys of test_channel_scenarios.py, over WhatsApp, on a real database.

The bot runs as ``postsale run`` builds it (``WhatsAppStack``): Meta's side posts signed
webhook bodies to the bot's HTTP server, the real engine handles them in its
transactions, and the real outbox sender delivers the replies to the fake Cloud API,
which keeps the 24-hour window as Meta does. Operators work from Telegram beside it.
Assertions are on what the fake servers received and on the rows written.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import Database
from storage.models import ChannelIdentity, FollowUp, HandledUpdate, Message, Ticket
from tests.builders import Clock, customer_with_delivered_order
from tests.fakes import bot_api as tg
from tests.fakes import wa_updates as wa
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.cloud_api import FakeCloudApi
from tests.fakes.whatsapp_stack import WhatsAppStack, whatsapp_settings
from tests.integration.stack_helpers import answers, invite
from tests.integration.whatsapp_scenes import (
    PHONE,
    WA_ID,
    Customer,
    buttons,
    count,
    list_rows,
    outbox,
    template_payload,
)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def cloud(clock: Clock) -> AsyncIterator[FakeCloudApi]:
    api = FakeCloudApi(clock=clock)
    api.url = await api.start()  # type: ignore[attr-defined]
    try:
        yield api
    finally:
        await api.close()


def make_stack(cloud: FakeCloudApi, db: Database, clock: Clock) -> WhatsAppStack:
    return WhatsAppStack(cloud, whatsapp_settings(cloud.url), db, clock)  # type: ignore[attr-defined]


@pytest.fixture
async def stack(cloud: FakeCloudApi, db: Database, clock: Clock) -> AsyncIterator[WhatsAppStack]:
    running = await make_stack(cloud, db, clock).start()
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
def ana(stack: WhatsAppStack, cloud: FakeCloudApi) -> Customer:
    return Customer(stack, cloud)


async def linked_customer(db: Database) -> int:
    """Ana, linked to her WhatsApp number, with a delivered order: its follow-up id."""
    _, _, fid = await customer_with_delivered_order(
        db, chat_id=WA_ID, channel="whatsapp", phone=PHONE
    )
    assert fid is not None
    return fid


# -- linking ----------------------------------------------------------------------------


async def test_a_number_without_the_ninth_digit_links_to_the_store_phone_with_it(
    stack: WhatsAppStack, ana: Customer, db: Database
) -> None:
    customer_id, _, _ = await customer_with_delivered_order(db, chat_id=None, phone=PHONE)

    await ana.says("oi")

    async with db.uow() as uow:
        linked = (await uow.session.scalars(select(ChannelIdentity))).all()
    assert [(i.channel, i.chat_id, i.customer_id) for i in linked] == [
        ("whatsapp", WA_ID, customer_id)
    ]
    welcome = ana.last().body
    assert welcome["type"] == "text" and "Welcome, Ana!" in welcome["text"]["body"]
    assert stack.api.read_marks()  # the customer's message shows as read


# -- the survey -------------------------------------------------------------------------


async def test_a_survey_answered_by_taps_opens_with_the_template_and_records_the_scores(
    stack: WhatsAppStack, ana: Customer, db: Database
) -> None:
    fid = await linked_customer(db)
    await invite(stack, fid)
    # Ana never wrote: the window is closed, the invitation goes as the survey template.
    [invitation_row] = await outbox(db)
    invitation = ana.last().body
    assert invitation["template"]["name"] == "postsale_survey"
    assert invitation["template"]["language"] == {"code": "en"}
    assert template_payload(invitation) == f"open:{invitation_row.id}"

    await ana.opens()
    question = ana.last().body
    assert "How likely are you to recommend us" in question["interactive"]["body"]["text"]
    assert [title for title, _ in buttons(question)] == ["0 – 5", "6 – 10"]
    await ana.taps("6 – 10")
    scores = list_rows(ana.last().body)
    assert [(r["title"], r["id"]) for r in scores] == [
        (str(n), f"nps:{fid}:{n}") for n in range(6, 11)
    ]
    await ana.picks("9")
    assert "main reason for your score" in ana.texts()[-1]
    await ana.says("fast delivery")
    csat = list_rows(ana.last().body)
    assert [r["id"] for r in csat] == [f"csat:{fid}:{n}" for n in range(1, 6)]
    await ana.picks(csat[3]["title"])

    assert await answers(db) == {"nps": (9, "fast delivery"), "csat": (4, None)}
    async with db.uow() as uow:
        followup = await uow.session.get(FollowUp, fid)
        lines = list(
            await uow.session.scalars(select(Message.text).where(Message.direction == "in"))
        )
    assert followup is not None and followup.status == "answered"
    assert "[button] 6 – 10" in lines and "[button] 9" in lines  # what the customer saw
    assert any("Thank you for your answers" in t for t in ana.texts())
    assert stack.api.refused() == []  # nothing went free-form outside the window


async def test_a_survey_answered_by_typing_is_recorded_the_same(
    stack: WhatsAppStack, ana: Customer, db: Database
) -> None:
    fid = await linked_customer(db)
    await invite(stack, fid)
    await ana.says("10")  # typed under the template, without tapping it
    assert "main reason for your score" in ana.texts()[-1]
    await ana.says("great service")
    await ana.says("5")
    assert await answers(db) == {"nps": (10, "great service"), "csat": (5, None)}
    async with db.uow() as uow:
        followup = await uow.session.get(FollowUp, fid)
    assert followup is not None and followup.status == "answered"


async def test_the_reason_can_be_skipped_with_its_button(
    stack: WhatsAppStack, ana: Customer, db: Database
) -> None:
    fid = await linked_customer(db)
    await invite(stack, fid)
    await ana.opens()
    await ana.taps("0 – 5")
    await ana.picks("3")
    assert buttons(ana.last().body) == [("Skip", f"skip:{fid}")]
    await ana.taps("Skip")
    await ana.picks(list_rows(ana.last().body)[1]["title"])
    assert await answers(db) == {"nps": (3, None), "csat": (2, None)}
    async with db.uow() as uow:
        tickets = (await uow.session.scalars(select(Ticket))).all()
    assert [t.source for t in tickets] == ["detractor"]


async def test_bad_input_is_answered_clearly_and_records_nothing(
    stack: WhatsAppStack, ana: Customer, db: Database
) -> None:
    fid = await linked_customer(db)
    await invite(stack, fid)
    await ana.opens()
    before = len(ana.received())
    await ana.says("11")
    await ana.says("it was fine I guess")
    await ana.sends("image")
    await ana.sends("audio")
    await ana.sends("sticker")
    replies = [r.body for r in ana.received()[before:]]
    assert len(replies) == 5  # each one answered, with the question's buttons again
    for reply in replies:
        assert "Please tap a number from 0 to 10" in reply["interactive"]["body"]["text"]
        assert [title for title, _ in buttons(reply)] == ["0 – 5", "6 – 10"]
    assert await answers(db) == {}
    async with db.uow() as uow:
        lines = list(
            await uow.session.scalars(select(Message.text).where(Message.direction == "in"))
        )
    assert lines[-3:] == ["[photo]", "[voice]", "[sticker]"]


async def test_a_body_meta_sends_again_is_handled_once_even_after_a_restart(
    cloud: FakeCloudApi, db: Database, clock: Clock
) -> None:
    fid = await linked_customer(db)
    first = await make_stack(cloud, db, clock).start()
    ana = Customer(first, cloud)
    try:
        await invite(first, fid)
        await ana.opens()
        await ana.taps("6 – 10")
        picked = wa.list_reply(WA_ID, f"nps:{fid}:10", "10", str(ana.last().wamid), at=first.at())
        before = len(ana.received())
        await first.deliver(picked)
        await first.deliver(picked)  # our 200 was slow: Meta sends the body again
    finally:
        await first.stop()
    second = await make_stack(cloud, db, clock).start()
    try:
        await second.deliver(picked)  # and again, to the next process (the stored check)
    finally:
        await second.stop()
    assert await answers(db) == {"nps": (10, None)}
    assert len(ana.received()) == before + 1  # one reason question
    assert await count(db, HandledUpdate, HandledUpdate.channel == "whatsapp") == 3
    assert await count(db, Message, Message.direction == "in") == 3


# -- complaints -------------------------------------------------------------------------


async def test_a_complaint_offers_the_categories_as_a_list_and_opens_a_ticket(
    stack: WhatsAppStack, ana: Customer, db: Database
) -> None:
    customer_id = (await customer_with_delivered_order(db, chat_id=None, phone=PHONE))[0]
    await ana.says("oi")  # the first message links the number
    await ana.says("/problem")
    rows = list_rows(ana.last().body)
    assert [r["id"] for r in rows][:5] == [
        "cat:late_delivery",
        "cat:damaged",
        "cat:wrong_item",
        "cat:return",
        "cat:other",
    ]
    await ana.picks("Damaged or defective")
    await ana.says("The mug arrived broken")
    async with db.uow() as uow:
        ticket = await uow.session.scalar(select(Ticket))
    assert ticket is not None
    assert (ticket.customer_id, ticket.category, ticket.description) == (
        customer_id,
        "damaged",
        "The mug arrived broken",
    )
    assert f"#{ticket.id}" in ana.texts()[-1]


# -- restarts ---------------------------------------------------------------------------


async def test_a_restart_mid_survey_continues_where_it_stood(
    cloud: FakeCloudApi, db: Database, clock: Clock
) -> None:
    fid = await linked_customer(db)
    first = await make_stack(cloud, db, clock).start()
    try:
        await invite(first, fid)
        await Customer(first, cloud).opens()
        await Customer(first, cloud).taps("6 – 10")
    finally:
        await first.stop()

    second = await make_stack(cloud, db, clock).start()
    try:
        ana = Customer(second, cloud)
        await ana.picks("7")  # from the list the first process sent
        await ana.says("late")
        await ana.picks(list_rows(ana.last().body)[2]["title"])
    finally:
        await second.stop()
    assert await answers(db) == {"nps": (7, "late"), "csat": (3, None)}
    assert cloud.refused() == []


# -- operators on Telegram ----------------------------------------------------------------

OPERATORS = "-500"  # the operators' Telegram group


@pytest.fixture
async def both(
    cloud: FakeCloudApi, api: FakeBotApi, db: Database, clock: Clock
) -> AsyncIterator[WhatsAppStack]:
    """WhatsApp for customers and Telegram for operators, in one app."""
    settings = whatsapp_settings(
        cloud.url,  # type: ignore[attr-defined]
        api.url,  # type: ignore[attr-defined]
        operator_ids=["900"],
        operator_chat_id=OPERATORS,
    )
    running = await WhatsAppStack(cloud, settings, db, clock, telegram=api).start()
    try:
        yield running
    finally:
        await running.stop()


async def complaint(ana: Customer, db: Database) -> int:
    """Ana reports a broken mug: the ticket's id."""
    await ana.says("/problem")
    await ana.picks("Damaged or defective")
    await ana.says("The mug arrived broken")
    async with db.uow() as uow:
        ticket = await uow.session.scalar(select(Ticket))
    assert ticket is not None
    return int(ticket.id)


def operator(text: str) -> dict[str, Any]:
    return tg.group_message(int(OPERATORS), 900, text)


async def test_an_operator_on_telegram_replies_and_resolves_to_the_customer_on_whatsapp(
    both: WhatsAppStack, cloud: FakeCloudApi, api: FakeBotApi, db: Database
) -> None:
    await linked_customer(db)
    ana = Customer(both, cloud)
    n = await complaint(ana, db)
    [announced] = api.texts(OPERATORS)
    assert f"New ticket #{n}" in announced and "The mug arrived broken" in announced

    await both.tell(operator(f"/reply {n} We are sending a new mug today"))
    assert f"Sent to the customer of ticket #{n}" in api.texts(OPERATORS)[-1]
    reply = ana.last().body
    assert reply["type"] == "text"  # inside the window: free-form
    assert reply["text"]["body"].endswith("We are sending a new mug today")

    await both.tell(operator(f"/resolve {n}"))
    assert f"Ticket #{n} resolved" in api.texts(OPERATORS)[-1]
    assert f"marked ticket #{n} as solved" in ana.texts()[-1]
    async with db.uow() as uow:
        ticket = await uow.session.get(Ticket, n)
    assert ticket is not None and ticket.status == "resolved"
    kinds = {row.purpose for row in await outbox(db)}
    assert {"operator", "resolution"} <= kinds
    assert cloud.refused() == []


async def test_a_reply_outside_the_window_goes_as_the_template_and_arrives_on_its_tap(
    both: WhatsAppStack, cloud: FakeCloudApi, api: FakeBotApi, db: Database, clock: Clock
) -> None:
    await linked_customer(db)
    ana = Customer(both, cloud)
    n = await complaint(ana, db)
    clock.advance(hours=25)  # Ana's last message is a day old: the window closed

    await both.tell(operator(f"/reply {n} Your refund is on its way"))
    told = "\n".join(api.texts(OPERATORS)[1:])
    assert "24-hour WhatsApp window is closed" in told and "postsale_reply" in told
    template = ana.last().body
    assert template["type"] == "template"
    assert template["template"]["name"] == "postsale_reply"
    [row] = [r for r in await outbox(db) if r.purpose == "operator"]
    assert template_payload(template) == f"open:{row.id}"
    assert (row.status, row.remote_id) == ("sent", ana.last().wamid)
    assert cloud.refused() == []  # no free-form message was tried past the window

    await ana.opens("See the reply")
    reply = ana.last().body
    assert reply["type"] == "text"
    assert reply["text"]["body"].endswith("Your refund is on its way")


# -- statuses ---------------------------------------------------------------------------


async def test_statuses_are_recorded_on_the_outbox_row_and_only_move_forward(
    stack: WhatsAppStack, ana: Customer, db: Database
) -> None:
    fid = await linked_customer(db)
    await invite(stack, fid)  # the template
    await ana.says("hello")  # answered inside the window
    invitation, answer = ana.received()
    assert invitation.body["type"] == "template" and answer.body["type"] != "template"
    at = stack.at()

    await stack.deliver(
        wa.status(str(answer.wamid), "sent", WA_ID, at=at),
        wa.status(str(answer.wamid), "read", WA_ID, at=at + 5),
        wa.status(str(answer.wamid), "delivered", WA_ID, at=at + 3),  # late, out of order
        wa.status("wamid.not-one-of-ours", "delivered", WA_ID, at=at),
    )
    undeliverable = wa.failure(131026, "Message undeliverable", "The number is not on WhatsApp.")
    await stack.deliver(
        wa.status(str(invitation.wamid), "failed", WA_ID, at=at + 9, errors=[undeliverable])
    )

    rows = {row.remote_id: row for row in await outbox(db)}
    read, failed = rows[answer.wamid], rows[invitation.wamid]
    assert (read.receipt, read.receipt_error) == ("read", None)
    assert read.receipt_at is not None and int(read.receipt_at.timestamp()) == at + 5
    assert (failed.purpose, failed.status, failed.receipt) == ("invitation", "sent", "failed")
    assert failed.receipt_error == "131026: Message undeliverable (The number is not on WhatsApp.)"


# -- reached by the stored phone ----------------------------------------------------------


async def test_a_customer_reached_by_the_stored_phone_answers_from_the_number_without_the_nine(
    stack: WhatsAppStack, cloud: FakeCloudApi, db: Database
) -> None:
    customer_id, _, fid = await customer_with_delivered_order(
        db, chat_id=None, phone=PHONE, locale="pt_BR"
    )
    async with db.uow() as uow:
        followup = await uow.session.get(FollowUp, fid)
        assert followup is not None
        followup.status = "pending"  # due: the scheduler invites
        await uow.commit()
    await stack.scheduler.tick()
    await stack.flush()
    # Meta delivers what goes to the stored number to her account, made before the nine.
    ana = Customer(stack, cloud, WA_ID, PHONE.lstrip("+"))
    invitation = ana.last().body
    assert invitation["to"] == PHONE.lstrip("+")
    assert invitation["template"]["name"] == "postsale_survey"
    assert invitation["template"]["language"] == {"code": "pt_BR"}  # Meta's code for it

    await ana.opens("Responder")
    question = ana.last().body
    assert question["to"] == WA_ID  # the chat moved to the number she answers from
    assert "How likely" not in question["interactive"]["body"]["text"]  # in Portuguese
    await ana.taps("6 – 10")
    assert list_rows(ana.last().body)[0]["title"] == "6"
    assert ana.last().body["interactive"]["action"]["button"] != "Choose"
    await ana.picks("8")
    assert await answers(db) == {"nps": (8, None)}
    async with db.uow() as uow:
        identity = await uow.session.scalar(select(ChannelIdentity))
    assert identity is not None
    assert (identity.channel, identity.chat_id, identity.customer_id) == (
        "whatsapp",
        WA_ID,
        customer_id,
    )
