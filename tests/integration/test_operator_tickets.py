"""Operators handle tickets in the chat: announcements, reply, resolve, reopen, assign."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from bot.app import Database
from bot.bootstrap import build_core
from bot.operators import targets_of
from bot.settings import Settings
from storage.models import Ticket, TicketEvent
from storage.read.sla import ticket_times
from tests.builders import T0, Clock, customer_with_delivered_order
from tests.integration.staff_helpers import (
    ADMIN,
    CUSTOMER_CHAT,
    OPERATOR,
    bodies_after,
    buttons,
    invite_to_survey,
    last_outbox_id,
    open_complaint,
    press,
    send,
    staff_settings,
    texts,
)


async def sla_watch(db: Database, settings: Settings, now: datetime) -> bool:
    """One pass of ``postsale run``'s SLA watch, wired as the bootstrap wires it."""
    return await build_core(db, settings).watch_sla(now)


async def ticket(db: Database, number: int) -> Ticket:
    async with db.uow() as uow:
        found = await uow.session.get(Ticket, number)
    assert found is not None
    return found


async def test_an_operator_resolves_a_ticket_and_the_clock_gives_its_times(
    db: Database, tmp_path: Path
) -> None:
    # T0 is Tuesday 2026-03-10 12:00 in São Paulo; business hours mon-fri 09:00-18:00.
    clock = Clock()
    settings = staff_settings(tmp_path)
    engine = build_core(db, settings, clock).pipeline
    await customer_with_delivered_order(db)
    before = await last_outbox_id(db)
    n = await open_complaint(db, engine)
    # Without an operators' group, every operator and admin is told in private.
    for chat in (OPERATOR, ADMIN):
        announced = await bodies_after(db, before, chat)
        assert f"New ticket #{n}" in texts(announced)
        assert {f"op:t:{n}", f"op:asg:{n}", f"op:res:{n}"} <= set(buttons(announced))

    clock.advance(minutes=90)  # 13:30: the first answer
    done = await send(db, engine, OPERATOR, f"/reply {n} We are sending a new mug today.")
    assert "First response after 1h 30m" in texts(done)
    to_customer = texts(await bodies_after(db, before, CUSTOMER_CHAT))
    assert f"Message from our team about ticket #{n}:\nWe are sending a new mug today." in (
        to_customer
    )
    clock.advance(minutes=30)  # 14:00: the customer writes back after 30 minutes
    await send(db, engine, CUSTOMER_CHAT, "Thank you, I will wait")
    clock.now = T0 + timedelta(hours=22)  # Wednesday 10:00
    resolved = await send(db, engine, OPERATOR, f"/resolve {n}")
    assert "resolved after 22h" in texts(resolved)
    question = (await bodies_after(db, before, CUSTOMER_CHAT))[-1]
    assert f"res:{n}:yes" in buttons([question])
    await send(db, engine, CUSTOMER_CHAT, press(f"res:{n}:yes"))
    await send(db, engine, CUSTOMER_CHAT, press(f"rate:{n}:5"))

    done_ticket = await ticket(db, n)
    assert done_ticket.status == "closed" and done_ticket.rating == 5
    assert done_ticket.first_response_s == 90 * 60
    assert done_ticket.resolution_s == 22 * 3600
    assert done_ticket.waiting_s == 30 * 60
    async with db.uow() as uow:
        (times,) = await ticket_times(uow.session, None, None, targets_of(settings), clock())
        kinds = list(
            await uow.session.scalars(
                select(TicketEvent.kind).where(TicketEvent.ticket_id == n).order_by(TicketEvent.id)
            )
        )
    assert kinds == [
        "opened",
        "first_response",
        "reply",
        "waiting_customer",
        "customer_message",
        "resolved",
        "closed",
        "rated",
    ]
    # Business hours: Tue 12:00-18:00 and Wed 09:00-10:00 = 7h, less the 30 minutes waiting.
    assert times.first_response_bs == 90 * 60
    assert times.waiting_bs == 30 * 60
    assert times.resolution_bs == 7 * 3600 - 30 * 60
    assert times.first_response_met and times.resolution_met

    details = texts(await send(db, engine, OPERATOR, f"/ticket {n}"))
    assert "Timeline:" in details and "10/03 12:00 opened by the customer" in details
    assert "11/03 10:00 resolved by 900" in details
    assert "Thank you, I will wait" in details  # the customer's last messages


async def test_a_customer_who_says_no_reopens_the_ticket_and_operators_are_told(
    db: Database, tmp_path: Path
) -> None:
    settings = staff_settings(tmp_path, operator_chat_id="-500")
    engine = build_core(db, settings, Clock()).pipeline
    await customer_with_delivered_order(db)
    before = await last_outbox_id(db)
    n = await open_complaint(db, engine)
    assert f"New ticket #{n}" in texts(await bodies_after(db, before, "-500"))
    assert await bodies_after(db, before, OPERATOR) == []  # the group, not private chats

    await send(db, engine, OPERATOR, press(f"op:res:{n}"))
    await send(db, engine, CUSTOMER_CHAT, press(f"res:{n}:no"))
    assert (await ticket(db, n)).status == "open"
    assert f"Ticket #{n} was reopened" in texts(await bodies_after(db, before, "-500"))
    assert (await ticket(db, n)).reopened_count == 1


async def test_buttons_and_commands_assign_list_page_and_reopen(
    db: Database, tmp_path: Path
) -> None:
    engine = build_core(db, staff_settings(tmp_path), Clock()).pipeline
    await customer_with_delivered_order(db)
    numbers = []
    for k in range(12):
        numbers.append(await open_complaint(db, engine, f"problem {k}"))
        await send(db, engine, OPERATOR, f"/resolve {numbers[-1]}")
        await send(db, engine, CUSTOMER_CHAT, press(f"res:{numbers[-1]}:yes"))
    first_page = await send(db, engine, OPERATOR, "/tickets all")
    assert "page 1 of 2" in texts(first_page) and "op:tl:all:2" in buttons(first_page)
    second = await send(db, engine, OPERATOR, press("op:tl:all:2"))
    assert "page 2 of 2" in texts(second) and f"#{numbers[0]}" in texts(second)
    assert all(len(data.encode()) <= 64 for data in buttons(first_page + second))

    n = numbers[0]
    assert "No open tickets." in texts(await send(db, engine, OPERATOR, "/tickets"))
    assert "is open again" in texts(await send(db, engine, OPERATOR, f"/reopen {n}"))
    assert "assigned to you" in texts(await send(db, engine, OPERATOR, press(f"op:asg:{n}")))
    mine = texts(await send(db, engine, OPERATOR, "/tickets mine"))
    assert f"#{n} [open]" in mine and "page 1 of 1" in mine
    assert f"assigned to {ADMIN}" in texts(await send(db, engine, OPERATOR, f"/assign {n} {ADMIN}"))
    assert (await ticket(db, n)).assignee == ADMIN


async def test_wrong_requests_get_a_clear_answer_and_change_nothing(
    db: Database, tmp_path: Path
) -> None:
    engine = build_core(db, staff_settings(tmp_path), Clock()).pipeline
    await customer_with_delivered_order(db)
    n = await open_complaint(db, engine)

    async def answer(text: str) -> str:
        return texts(await send(db, engine, OPERATOR, text))

    assert "There is no ticket #999" in await answer("/ticket 999")
    assert "Which ticket?" in await answer("/resolve abc")
    assert "Use /reply N text" in await answer("/reply")
    assert "What should I tell the customer?" in await answer(f"/reply {n}")
    assert "Use /tickets open" in await answer("/tickets everything")
    assert "Use /kpi 7d" in await answer("/kpi last-year")
    assert "is already open" in await answer(f"/reopen {n}")
    assert "555 is not an operator" in await answer(f"/assign {n} 555")
    assert "no longer valid" in texts(await send(db, engine, OPERATOR, press("op:zzz:1")))
    t = await ticket(db, n)
    assert (t.status, t.assignee, t.first_response_at) == ("open", None, None)
    help_text = await answer("/help")
    assert "/reply N text" in help_text and "/history" not in help_text.split("/problem")[0]


async def test_operators_are_warned_once_before_a_ticket_misses_its_target(
    db: Database, tmp_path: Path
) -> None:
    clock = Clock()  # Tuesday 12:00 in São Paulo; first response target 4h of business time
    settings = staff_settings(tmp_path)
    engine = build_core(db, settings, clock).pipeline
    await customer_with_delivered_order(db)
    n = await open_complaint(db, engine)
    before = await last_outbox_id(db)

    clock.advance(hours=3)  # 15:00: 1h left, more than the 48-minute lead
    assert not await sla_watch(db, settings, clock())
    clock.advance(minutes=15)  # 15:15: 45 minutes left
    assert await sla_watch(db, settings, clock())
    warned = await bodies_after(db, before, OPERATOR)
    assert f"Ticket #{n}: first response due in 45m" in texts(warned)
    assert "by 10/03 16:00" in texts(warned)
    clock.advance(hours=2)
    assert not await sla_watch(db, settings, clock())  # once per ticket
    assert (await ticket(db, n)).sla_warned_at is not None


async def test_after_hours_a_ticket_is_not_warned_about_until_the_clock_runs(
    db: Database, tmp_path: Path
) -> None:
    clock = Clock(T0.replace(hour=23))  # Tuesday 20:00 in São Paulo, after hours
    settings = staff_settings(tmp_path)
    engine = build_core(db, settings, clock).pipeline
    await customer_with_delivered_order(db)
    await open_complaint(db, engine)
    clock.advance(hours=12)  # Wednesday 08:00: no business time has passed
    assert not await sla_watch(db, settings, clock())
    clock.advance(hours=4, minutes=30)  # 12:30: 3.5h of business time used
    assert await sla_watch(db, settings, clock())


async def test_a_detractor_ticket_shows_its_order_and_the_nps_score_that_opened_it(
    db: Database, tmp_path: Path
) -> None:
    clock = Clock(T0)
    engine = build_core(db, staff_settings(tmp_path), clock).pipeline
    _, _, fid = await customer_with_delivered_order(db, "c-9", chat_id=CUSTOMER_CHAT, now=T0)
    assert fid is not None
    await invite_to_survey(db, engine, fid, T0)
    await send(db, engine, CUSTOMER_CHAT, press(f"nps:{fid}:3"))
    await send(db, engine, CUSTOMER_CHAT, "It came late")
    async with db.uow() as uow:
        number = await uow.session.scalar(select(Ticket.id).where(Ticket.source == "detractor"))

    details = texts(await send(db, engine, OPERATOR, f"/ticket {number}"))

    assert "Order: #c-9-o1 (bought 28/02 12:00, delivered 08/03 12:00) · opened by NPS 3" in details


async def test_an_operator_whose_telegram_speaks_portuguese_gets_the_screens_in_portuguese(
    db: Database, tmp_path: Path
) -> None:
    clock = Clock(T0)
    engine = build_core(db, staff_settings(tmp_path), clock).pipeline
    await customer_with_delivered_order(db, now=T0)
    n = await open_complaint(db, engine)

    details = texts(await send(db, engine, OPERATOR, f"/ticket {n}", language_code="pt-br"))

    assert f"Chamado #{n} · danificado ou com defeito · aberto" in details
    assert "Linha do tempo:" in details and "aberto por cliente" in details
    assert f"Responda com /reply {n} seu texto" in details
    assert "Timeline:" not in details and "customer_message" not in details
    english = texts(await send(db, engine, OPERATOR, f"/ticket {n}", language_code="en"))
    assert "Timeline:" in english and "opened by the customer" in english


async def test_announcements_use_the_language_chosen_in_the_operators_chat(
    db: Database, tmp_path: Path
) -> None:
    clock = Clock(T0)
    engine = build_core(db, staff_settings(tmp_path), clock).pipeline
    await send(db, engine, OPERATOR, "/language")
    await send(db, engine, OPERATOR, press("lang:es"))
    await customer_with_delivered_order(db, now=T0)
    before = await last_outbox_id(db)

    n = await open_complaint(db, engine)

    told = texts(await bodies_after(db, before, OPERATOR))
    assert f"🆕 Nueva incidencia #{n} · dañado o defectuoso" in told
    (admin_told,) = await bodies_after(db, before, ADMIN)
    assert admin_told["text"].startswith(f"🆕 New ticket #{n} · damaged or defective")
    assert [b["text"] for row in admin_told["buttons"] for b in row][:1] == [f"Open #{n}"]
