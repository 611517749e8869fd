"""The outbox sender against a Bot API endpoint on loopback, on a real database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.app import Database
from bot.delivery.limits import SendLimits
from bot.delivery.sender import OutboxSender
from storage.models import Customer, OutboxMessage
from storage.outbox import enqueue
from storage.outbox_body import OutboxBody
from tests.integration.outbox_fakes import HttpChannel, ScriptedBotApi, serving

NOW = datetime(2024, 3, 5, 15, 0, tzinfo=UTC)
FAST = SendLimits(global_rate=500, per_chat_rate=100, backoff_base=0.05, poll_interval=0.05)


@pytest.fixture
def api() -> ScriptedBotApi:
    return ScriptedBotApi()


@pytest.fixture
async def channel(api: ScriptedBotApi) -> AsyncIterator[HttpChannel]:
    async with serving(api) as channel:
        yield channel


async def queue(db: Database, *messages: tuple[str, str], customer_id: int | None = None) -> None:
    async with db.uow() as uow:
        for chat_id, text in messages:
            await enqueue(
                uow.session,
                channel="telegram",
                chat_id=chat_id,
                body=OutboxBody(text=text),
                purpose="reply",
                now=NOW,
                customer_id=customer_id,
            )
        await uow.commit()


async def rows(db: Database) -> list[OutboxMessage]:
    async with db.uow() as uow:
        found = list((await uow.session.scalars(select(OutboxMessage).order_by("id"))).all())
        uow.session.expunge_all()
        return found


async def send_all(db: Database, channel: HttpChannel, limits: SendLimits = FAST) -> OutboxSender:
    sender = OutboxSender(db, {"telegram": channel}, limits, clock=lambda: NOW)
    await asyncio.wait_for(sender.run(until_idle=True), 20)
    return sender


async def test_each_chat_gets_its_messages_in_the_order_they_were_queued(
    db: Database, channel: HttpChannel, api: ScriptedBotApi
) -> None:
    await queue(db, *[(str(100 + n % 5), f"m{n}") for n in range(40)])

    sender = await send_all(db, channel)

    assert sender.stats.sent == 40
    for chat in range(5):
        assert api.texts(str(100 + chat)) == [f"m{n}" for n in range(chat, 40, 5)]
    assert {r.status for r in await rows(db)} == {"sent"}
    assert all(r.remote_id and r.sent_at == NOW for r in await rows(db))


async def test_one_chat_is_never_sent_faster_than_its_rate(
    db: Database, channel: HttpChannel, api: ScriptedBotApi
) -> None:
    await queue(db, ("100", "a"), ("100", "b"), ("100", "c"), ("200", "x"))

    await send_all(db, channel, SendLimits(global_rate=500, per_chat_rate=5, poll_interval=0.05))

    times = api.requests["100"]
    assert len(times) == 3
    assert min(b - a for a, b in zip(times, times[1:], strict=False)) >= 0.19


async def test_the_whole_bot_never_sends_more_than_the_global_rate_in_any_second(
    db: Database, channel: HttpChannel, api: ScriptedBotApi
) -> None:
    await queue(db, *[(str(100 + n), "hi") for n in range(60)])

    await send_all(db, channel, SendLimits(global_rate=40, per_chat_rate=100, poll_interval=0.05))

    times = sorted(t for ts in api.requests.values() for t in ts)
    busiest = max(sum(1 for t in times if start <= t < start + 1.0) for start in times)
    assert len(times) == 60
    assert busiest <= 40
    assert times[-1] - times[0] >= 1.0


async def test_a_429_pauses_that_chat_and_the_others_for_retry_after(
    db: Database, channel: HttpChannel, api: ScriptedBotApi
) -> None:
    api.script["100"] = [(429, "Too Many Requests: retry after 1", 1)]
    await queue(db, ("100", "first"), ("100", "second"))
    await queue(db, ("200", "other"))

    # Spaced 0.2 s apart, so the other chat's turn comes after the 429 arrived.
    sender = await send_all(db, channel, SendLimits(global_rate=5, per_chat_rate=100))

    first_try, retry = api.requests["100"][:2]
    assert retry - first_try >= 1.0
    assert api.texts("100") == ["first", "second"]
    assert api.requests["200"][0] - first_try >= 0.99
    assert sender.stats.rate_limited == 1
    assert [r.attempts for r in await rows(db)][:2] == [1, 1]  # a 429 is not the message's fault


async def test_a_server_error_is_retried_with_backoff_until_it_goes_through(
    db: Database, channel: HttpChannel, api: ScriptedBotApi
) -> None:
    api.script["100"] = [(502, "Bad Gateway", None), (500, "Internal Server Error", None)]
    await queue(db, ("100", "hello"), ("100", "after"))

    sender = await send_all(db, channel)

    assert api.texts("100") == ["hello", "after"]
    tries = api.requests["100"]
    assert tries[1] - tries[0] >= 0.025 and tries[2] - tries[1] >= 0.05
    assert sender.stats.retried == 2
    first = (await rows(db))[0]
    assert (first.status, first.attempts) == ("sent", 3)


async def test_a_message_failing_until_its_deadline_is_kept_as_failed_with_the_reason(
    db: Database, channel: HttpChannel, api: ScriptedBotApi
) -> None:
    api.script["100"] = [(500, "Internal Server Error", None)] * 50
    await queue(db, ("100", "doomed"), ("100", "next"))
    loop = asyncio.get_running_loop()
    started = loop.time()

    def clock() -> datetime:  # the wall clock, moving with the test's real time
        return NOW + timedelta(seconds=loop.time() - started)

    limits = SendLimits(
        global_rate=500, per_chat_rate=100, backoff_base=0.05, backoff_max=0.1, retry_for=0.5
    )
    sender = OutboxSender(db, {"telegram": channel}, limits, clock=clock)
    await asyncio.wait_for(sender.run(until_idle=True), 20)

    first, second = await rows(db)
    assert first.status == "failed" and first.attempts >= 4
    assert first.error is not None and "deadline passed" in first.error and "500" in first.error
    assert first.failed_at is not None and first.failed_at - NOW >= timedelta(seconds=0.5)
    assert second.status == "failed"  # the script outlasted both deadlines: neither went
    assert api.texts("100") == []


async def test_a_blocked_bot_marks_the_customer_unreachable_and_fails_the_chat(
    db: Database, channel: HttpChannel, api: ScriptedBotApi
) -> None:
    async with db.uow() as uow:
        customer = Customer(external_id="c1", created_at=NOW)
        uow.session.add(customer)
        await uow.commit()
    api.blocked.add("100")
    await queue(db, ("100", "one"), ("100", "two"), customer_id=customer.id)
    await queue(db, ("200", "fine"))

    sender = await send_all(db, channel)

    statuses = [(r.chat_id, r.status, (r.error or "")[:7]) for r in await rows(db)]
    assert statuses == [
        ("100", "failed", "blocked"),
        ("100", "failed", "blocked"),
        ("200", "sent", ""),
    ]
    assert len(api.requests["100"]) == 1  # the second message was not tried in vain
    assert sender.stats.blocked == 1
    async with db.uow() as uow:
        unreachable = await uow.session.scalar(
            select(Customer.unreachable_at).where(Customer.id == customer.id)
        )
    assert unreachable == NOW


async def test_a_rejected_message_fails_with_telegrams_reason_and_the_next_one_goes(
    db: Database, channel: HttpChannel, api: ScriptedBotApi
) -> None:
    api.script["100"] = [(400, "Bad Request: message text is empty", None)]
    await queue(db, ("100", ""), ("100", "next"))

    await send_all(db, channel)

    first, second = await rows(db)
    assert (first.status, first.error) == ("failed", "Bad Request: message text is empty")
    assert second.status == "sent"
    assert api.texts("100") == ["next"]


async def test_a_message_waiting_for_its_retry_time_holds_back_its_chat(
    db: Database, channel: HttpChannel, api: ScriptedBotApi
) -> None:
    await queue(db, ("100", "later"), ("100", "after it"), ("200", "now"))
    async with db.uow() as uow:
        first = await uow.session.get(OutboxMessage, 1)
        assert first is not None
        first.not_before = NOW + timedelta(seconds=0.5)
        await uow.commit()

    await send_all(db, channel)

    assert api.texts("100") == ["later", "after it"]
    assert api.requests["100"][0] - api.requests["200"][0] >= 0.45


async def test_memory_holds_no_state_for_chats_once_they_are_idle(
    db: Database, channel: HttpChannel, api: ScriptedBotApi
) -> None:
    await queue(db, *[(str(1000 + n), "hi") for n in range(300)])
    sender = await send_all(db, channel, SendLimits(global_rate=2000, per_chat_rate=20))
    assert len(api.delivered) == 300

    await asyncio.sleep(0.06)  # longer than one chat's interval (1/20 s)
    sender.forget_idle()

    assert sender.chats_in_memory == 0


async def test_the_pacer_remembers_only_the_last_seconds_sends_however_high_the_rate(
    db: Database, channel: HttpChannel, api: ScriptedBotApi
) -> None:
    # A rate of a million a second (the benchmarks' setting) once kept a million stamps.
    limits = SendLimits(global_rate=1_000_000, per_chat_rate=1_000_000, poll_interval=0.05)
    sender = OutboxSender(db, {"telegram": channel}, limits, clock=lambda: NOW)
    await queue(db, *[(str(1000 + n), "hi") for n in range(300)])
    await asyncio.wait_for(sender.run(until_idle=True), 20)
    assert 0 < sender.sends_in_memory <= 300

    await asyncio.sleep(1.2)  # past the window (1 s + margin)
    await queue(db, ("2000", "later"))
    await asyncio.wait_for(sender.run(until_idle=True), 20)

    assert len(api.delivered) == 301
    assert sender.sends_in_memory == 1
