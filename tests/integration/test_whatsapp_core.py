"""The core's side of WhatsApp on a real database (SQLite and PostgreSQL), without the
channel: linking by the chat's number, chats reached by phone, pickers, template openers,
receipts and the closed window an operator is told about."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from bot.app import Database
from bot.bootstrap import Core, build_core
from bot.channels.port import Incoming
from bot.entrypoints.commands.link import write_unmatched
from bot.settings import Settings
from flows.events import ButtonIn, CommandIn, Event, TextIn
from storage.links import unmatched_chats
from storage.models import (
    ChannelIdentity,
    Conversation,
    Customer,
    FollowUp,
    OutboxMessage,
    SurveyResponse,
    Ticket,
)
from storage.outbox_body import OutboxBody
from storage.outbox_state import Head, mark_blocked
from storage.phone_chats import reach_due_by_phone
from storage.receipts import record_receipt
from tests.builders import Clock, customer_with_delivered_order

_ids = itertools.count(1)
PHONE = "+5511987654321"  # as the store recorded it
OLD_ID = "551187654321"  # the WhatsApp account made before the ninth digit


def settings(**extra: object) -> Settings:
    values: dict[str, object] = {
        "default_locale": "en",
        "whatsapp_token": "t",
        "whatsapp_phone_number_id": "1",
        "operator_ids": ["900"],
    }
    values.update(extra)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def wa(event: Event, wa_id: str = OLD_ID) -> Incoming:
    return Incoming(
        channel="whatsapp",
        update_id=f"wamid.{next(_ids)}",
        chat_id=wa_id,
        user_id=wa_id,
        chat_type="private",
        event=event,
        first_name="Ana",
        phone="+" + wa_id,
    )


def operator(text: str, name: str = "reply") -> Incoming:
    """An operator's command on Telegram (OPERATOR_IDS is 900)."""
    return Incoming("telegram", str(next(_ids)), "900", "900", "private", CommandIn(name, text))


async def rows(db: Database, chat_id: str) -> list[OutboxMessage]:
    async with db.uow() as uow:
        found = await uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.chat_id == chat_id).order_by(OutboxMessage.id)
        )
        return list(found)


async def invite(db: Database, core: Core, fid: int | None) -> OutboxMessage:
    """The survey's invitation, queued to the customer's WhatsApp chat."""
    async with db.uow() as uow:
        followup = await uow.session.get(FollowUp, fid)
        assert followup is not None
        assert await core.messenger.start_survey(uow.session, followup, Clock()())
        await uow.commit()
    return (await rows(db, OLD_ID))[-1]


async def test_a_number_matching_the_store_phone_without_the_ninth_digit_links_itself(
    db: Database,
) -> None:
    core = build_core(db, settings(), Clock(), operator_commands=False)
    customer_id, _, _ = await customer_with_delivered_order(db, chat_id=None, phone=PHONE)
    await core.pipeline.handle(wa(TextIn("oi")))
    async with db.uow() as uow:
        identity = await uow.session.scalar(select(ChannelIdentity))
    assert identity is not None
    assert (identity.channel, identity.chat_id, identity.customer_id) == (
        "whatsapp",
        OLD_ID,
        customer_id,
    )
    assert "Welcome, Ana!" in (await rows(db, OLD_ID))[-1].body["text"]


async def test_a_command_that_links_the_chat_by_its_number_is_answered_too(db: Database) -> None:
    core = build_core(db, settings(), Clock(), operator_commands=False)
    await customer_with_delivered_order(db, chat_id=None, phone=PHONE)
    await core.pipeline.handle(wa(CommandIn("problem")))
    welcome, question = [r.body for r in await rows(db, OLD_ID)]
    assert "Welcome, Ana!" in welcome["text"]
    assert "cat:damaged" in [b["data"] for row in question["buttons"] for b in row]


async def test_a_number_matching_nobody_is_answered_politely_and_kept_for_the_store(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    core = build_core(db, settings(), Clock(), operator_commands=False)
    await customer_with_delivered_order(db, chat_id=None, phone="+5521900000000")
    await core.pipeline.handle(wa(TextIn("hello?"), "447700900123"))
    await core.pipeline.handle(wa(CommandIn("help"), "447700900123"))
    answers = [r.body["text"] for r in await rows(db, "447700900123")]
    assert len(answers) == 2
    assert all("could not find an order placed with this phone number" in a for a in answers)
    async with db.reader() as uow:
        kept = await unmatched_chats(uow.session)
        linked = await uow.session.scalar(select(ChannelIdentity))
    assert [(c.number, c.messages) for c in kept] == [("+447700900123", 2)]
    assert linked is None
    assert await write_unmatched(db, None) == 1  # postsale link --unmatched
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "channel,number,first_at,last_at,messages"
    assert lines[1].startswith("whatsapp,+447700900123,") and lines[1].endswith(",2")


async def test_a_customer_reached_by_phone_answers_from_the_old_number_and_the_survey_goes_on(
    db: Database,
) -> None:
    clock = Clock()
    core = build_core(db, settings(), clock)
    customer_id, _, fid = await customer_with_delivered_order(db, chat_id=None, phone=PHONE)
    async with db.uow() as uow:
        followup = await uow.session.get(FollowUp, fid)
        assert followup is not None
        followup.status = "pending"
        await uow.commit()
    report = await core.scheduler.tick()
    assert report.queued_messages >= 1
    invitation = (await rows(db, PHONE.lstrip("+")))[-1]
    assert invitation.purpose == "invitation"

    await core.pipeline.handle(wa(TextIn("9")))  # typed, from the account without the 9
    async with db.uow() as uow:
        identity = await uow.session.scalar(select(ChannelIdentity))
        chats = (await uow.session.scalars(select(Conversation.chat_id))).all()
        scores = (await uow.session.scalars(select(SurveyResponse.score))).all()
    assert identity is not None and identity.chat_id == OLD_ID
    assert identity.customer_id == customer_id
    assert chats == [OLD_ID]
    assert scores == [9]


async def test_a_picker_group_press_sends_that_rows_choices_and_a_strangers_row_is_refused(
    db: Database,
) -> None:
    core = build_core(db, settings(), Clock(), operator_commands=False)
    _, _, fid = await customer_with_delivered_order(
        db, chat_id=OLD_ID, channel="whatsapp", phone=PHONE
    )
    invitation = await invite(db, core, fid)
    await core.pipeline.handle(wa(ButtonIn(f"pick:{invitation.id}:1")))
    second = OutboxBody.from_json((await rows(db, OLD_ID))[-1].body)
    assert [b.data for row in second.buttons for b in row] == [
        f"nps:{fid}:{n}" for n in range(6, 11)
    ]
    assert all(len(row) == 1 for row in second.buttons)
    await core.pipeline.handle(wa(ButtonIn(f"nps:{fid}:10")))
    async with db.uow() as uow:
        assert (await uow.session.scalars(select(SurveyResponse.score))).all() == [10]

    await core.pipeline.handle(wa(ButtonIn(f"pick:{invitation.id}:0"), "5599911112222"))
    stranger = (await rows(db, "5599911112222"))[-1].body["text"]
    assert "no longer available" in stranger


async def test_a_templates_quick_reply_sends_the_message_it_stood_for(db: Database) -> None:
    core = build_core(db, settings(), Clock(), operator_commands=False)
    _, _, fid = await customer_with_delivered_order(
        db, chat_id=OLD_ID, channel="whatsapp", phone=PHONE
    )
    invitation = await invite(db, core, fid)
    await core.pipeline.handle(wa(ButtonIn(f"open:{invitation.id}")))
    again = (await rows(db, OLD_ID))[-1]
    assert again.id != invitation.id and again.purpose == "reply"
    assert again.body == invitation.body


async def test_receipts_only_move_forward_and_a_failure_keeps_its_reason(db: Database) -> None:
    clock = Clock()
    await customer_with_delivered_order(db, chat_id=OLD_ID, channel="whatsapp")
    async with db.uow() as uow:
        row = OutboxMessage(
            channel="whatsapp", chat_id=OLD_ID, purpose="reply", body={"text": "hi"},
            status="sent", created_at=clock(), remote_id="wamid." + "A" * 90,
        )  # fmt: skip
        uow.session.add(row)
        await uow.commit()
        row_id = row.id
    wamid = "wamid." + "A" * 90
    async with db.uow() as uow:
        s = uow.session
        assert await record_receipt(s, "whatsapp", wamid, "read", clock())
        assert not await record_receipt(s, "whatsapp", wamid, "delivered", clock())
        assert not await record_receipt(s, "telegram", wamid, "failed", clock())
        assert not await record_receipt(s, "whatsapp", "wamid.other", "read", clock())
        await uow.commit()
    async with db.uow() as uow:
        stored = await uow.session.get(OutboxMessage, row_id)
        assert stored is not None and stored.receipt == "read"
        assert await record_receipt(
            uow.session, "whatsapp", wamid, "failed", clock(), "131026: Message undeliverable"
        )
        await uow.commit()
    async with db.uow() as uow:
        stored = await uow.session.get(OutboxMessage, row_id)
        assert stored is not None
        assert (stored.receipt, stored.receipt_error) == ("failed", "131026: Message undeliverable")


async def test_an_unreachable_chat_leaves_the_customer_reachable_on_their_other_chat(
    db: Database,
) -> None:
    clock = Clock()
    customer_id, _, _ = await customer_with_delivered_order(db, chat_id="100")
    async with db.uow() as uow:
        uow.session.add(
            ChannelIdentity(
                customer_id=customer_id, channel="whatsapp", chat_id=OLD_ID, linked_at=clock()
            )
        )
        await uow.commit()
    head = Head(1, "whatsapp", OLD_ID, customer_id, {}, 0, None, "reply", clock(), None, 0)
    async with db.uow() as uow:
        await mark_blocked(uow.session, head, "131026", clock())
        await uow.commit()
    async with db.uow() as uow:
        customer = await uow.session.get(Customer, customer_id)
        assert customer is not None and customer.unreachable_at is None
    telegram = Head(2, "telegram", "100", customer_id, {}, 0, None, "reply", clock(), None, 0)
    async with db.uow() as uow:
        await mark_blocked(uow.session, telegram, "blocked", clock())
        await uow.commit()
    async with db.uow() as uow:
        customer = await uow.session.get(Customer, customer_id)
        assert customer is not None and customer.unreachable_at is not None


async def complaint(db: Database, core: Core, category: str, text: str) -> Ticket:
    """A WhatsApp customer's complaint, opened as a ticket."""
    await customer_with_delivered_order(db, chat_id=OLD_ID, channel="whatsapp", phone=PHONE)
    for event in (CommandIn("problem"), ButtonIn(f"cat:{category}"), TextIn(text)):
        await core.pipeline.handle(wa(event))
    async with db.uow() as uow:
        ticket = await uow.session.scalar(select(Ticket))
    assert ticket is not None
    return ticket


async def test_an_operator_reply_to_a_closed_window_says_a_template_goes_instead(
    db: Database,
) -> None:
    clock = Clock()
    core = build_core(db, settings(), clock)
    ticket = await complaint(db, core, "damaged", "the box was crushed")

    await core.pipeline.handle(operator(f"{ticket.id} we are on it"))
    inside = (await rows(db, "900"))[-1].body["text"]
    assert "Sent to the customer" in inside and "window is closed" not in inside

    clock.advance(hours=25)
    await core.pipeline.handle(operator(f"{ticket.id} a new box is on its way"))
    outside = (await rows(db, "900"))[-1].body["text"]
    assert "window is closed" in outside and "postsale_reply" in outside
    assert (await rows(db, OLD_ID))[-1].purpose == "operator"


async def test_the_ticket_view_shows_whether_the_last_answer_arrived(db: Database) -> None:
    clock = Clock()
    core = build_core(db, settings(), clock)
    ticket = await complaint(db, core, "wrong_item", "I got a blue one")

    await core.pipeline.handle(operator(f"{ticket.id} sending the red one"))
    await core.pipeline.handle(operator(str(ticket.id), "ticket"))
    assert "Last answer to the customer: queued" in (await rows(db, "900"))[-1].body["text"]

    answer = (await rows(db, OLD_ID))[-1]
    async with db.uow() as uow:
        stored = await uow.session.get(OutboxMessage, answer.id)
        assert stored is not None
        stored.status, stored.remote_id, stored.sent_at = "sent", "wamid.answer", clock()
        await uow.commit()
    async with db.uow() as uow:
        why = "131026: Message undeliverable"
        assert await record_receipt(uow.session, "whatsapp", "wamid.answer", "failed", clock(), why)
        await uow.commit()
    await core.pipeline.handle(operator(str(ticket.id), "ticket"))
    view = (await rows(db, "900"))[-1].body["text"]
    assert "Last answer to the customer: failed: 131026: Message undeliverable" in view


async def test_customers_due_are_given_their_numbers_once_each_and_a_shared_one_once(
    db: Database,
) -> None:
    clock = Clock()
    ids = []
    for n, phone in enumerate(("+5511911110001", "+5511911110002", "+5511911110002")):
        customer_id, _, fid = await customer_with_delivered_order(
            db, f"c-{n}", chat_id=None, phone=phone
        )
        ids.append(customer_id)
        async with db.uow() as uow:
            followup = await uow.session.get(FollowUp, fid)
            assert followup is not None
            followup.status = "pending"
            await uow.commit()
    async with db.uow() as uow:
        assert await reach_due_by_phone(uow.session, "whatsapp", clock()) == 2
        assert await reach_due_by_phone(uow.session, "whatsapp", clock()) == 0
        await uow.commit()
    async with db.uow() as uow:
        chats = (
            await uow.session.execute(
                select(ChannelIdentity.chat_id, ChannelIdentity.customer_id).order_by(
                    ChannelIdentity.chat_id
                )
            )
        ).all()
    assert [tuple(c) for c in chats] == [("5511911110001", ids[0]), ("5511911110002", ids[1])]
