"""The follow-up scheduler on a real database, with a clock the test moves."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from bot.app import Database
from bot.scheduling.scheduler import Scheduler
from bot.settings import Settings
from storage.followups import unlinked_customers
from storage.models import Customer, FollowUp, OutboxMessage
from tests.integration.scheduling_helpers import (
    MovedClock,
    OutboxSurveyStarter,
    add_customer,
    add_order,
    followups,
    link_chat,
)

DELIVERED = datetime(2024, 3, 5, 15, 0, tzinfo=UTC)  # 12:00 in Sao Paulo
DUE = DELIVERED + timedelta(hours=24)


@pytest.fixture
def settings() -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        followup_delay="24h",
        reminder_after="48h",
        survey_expires_after="7d",
        survey_throttle="90d",
        contact_window="09:00-20:00",
        default_timezone="America/Sao_Paulo",
    )


@pytest.fixture
def clock() -> MovedClock:
    return MovedClock(DELIVERED + timedelta(minutes=5))


@pytest.fixture
def scheduler(db: Database, settings: Settings, clock: MovedClock) -> Scheduler:
    return Scheduler(db, settings, OutboxSurveyStarter(), clock)


async def outbox(db: Database, purpose: str | None = None) -> list[OutboxMessage]:
    async with db.uow() as uow:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if purpose:
            query = query.where(OutboxMessage.purpose == purpose)
        rows = list((await uow.session.scalars(query)).all())
        uow.session.expunge_all()
        return rows


async def test_a_delivered_order_gets_a_follow_up_due_after_the_delay(
    db: Database, scheduler: Scheduler, clock: MovedClock
) -> None:
    customer = await add_customer(db, "c1", now=clock(), chat_id="100")
    await add_order(db, "o1", customer, delivered_at=DELIVERED)
    await add_order(db, "o2", customer, delivered_at=None)

    report = await scheduler.tick()

    assert report.planned == 1
    [planned] = await followups(db)
    assert (planned.status, planned.due_at) == ("pending", DUE)


async def test_a_due_time_at_night_moves_to_the_next_morning_in_the_customers_zone(
    db: Database, scheduler: Scheduler, clock: MovedClock
) -> None:
    lisbon = await add_customer(db, "c1", now=clock(), timezone="Europe/Lisbon")
    default = await add_customer(db, "c2", now=clock())
    late = datetime(2024, 3, 5, 23, 30, tzinfo=UTC)  # 23:30 in Lisbon, 20:30 in Sao Paulo
    await add_order(db, "o1", lisbon, delivered_at=late)
    await add_order(db, "o2", default, delivered_at=late)
    clock.set(late)

    await scheduler.tick()

    dues = {f.customer_id: f.due_at for f in await followups(db)}
    assert dues[lisbon] == datetime(2024, 3, 7, 9, 0, tzinfo=UTC)  # 09:00 WET
    assert dues[default] == datetime(2024, 3, 7, 12, 0, tzinfo=UTC)  # 09:00 -03:00


async def test_planning_twice_plans_each_order_once(
    db: Database, scheduler: Scheduler, clock: MovedClock
) -> None:
    customer = await add_customer(db, "c1", now=clock())
    await add_order(db, "o1", customer, delivered_at=DELIVERED)

    first, second = await scheduler.tick(), await scheduler.tick()

    assert (first.planned, second.planned) == (1, 0)
    assert len(await followups(db)) == 1


async def test_a_linked_customer_is_invited_once_the_follow_up_is_due(
    db: Database, scheduler: Scheduler, clock: MovedClock
) -> None:
    customer = await add_customer(db, "c1", now=clock(), chat_id="100")
    await add_order(db, "o1", customer, delivered_at=DELIVERED)
    assert (await scheduler.tick()).sent == 0

    clock.set(DUE)
    report = await scheduler.tick()
    again = await scheduler.tick()

    assert (report.sent, again.sent) == (1, 0)
    [invitation] = await outbox(db)
    assert (invitation.purpose, invitation.chat_id) == ("invitation", "100")
    [followup] = await followups(db)
    assert (followup.status, followup.sent_at) == ("sent", DUE)
    async with db.uow() as uow:
        surveyed = await uow.session.scalar(
            select(Customer.last_surveyed_at).where(Customer.id == customer)
        )
    assert surveyed == DUE


async def test_an_unlinked_customer_waits_and_is_invited_when_linking_later(
    db: Database, scheduler: Scheduler, clock: MovedClock
) -> None:
    customer = await add_customer(db, "c1", now=clock(), name="Ana")
    await add_order(db, "o1", customer, delivered_at=DELIVERED)
    await scheduler.tick()
    clock.set(DUE)

    waiting = await scheduler.tick()
    async with db.uow() as uow:
        listed = await unlinked_customers(uow.session)

    assert (waiting.sent, waiting.waiting_for_link) == (0, 1)
    assert [(c.external_id, c.name, c.pending) for c in listed] == [("c1", "Ana", 1)]
    [followup] = await followups(db)
    assert followup.status == "pending"

    await link_chat(db, customer, "200", clock.advance(days=2))
    linked = await scheduler.tick()

    assert (linked.sent, linked.waiting_for_link) == (1, 0)
    assert [m.chat_id for m in await outbox(db, "invitation")] == ["200"]


async def test_a_customer_who_never_links_is_skipped_as_stale_after_the_expiry(
    db: Database, scheduler: Scheduler, clock: MovedClock
) -> None:
    customer = await add_customer(db, "c1", now=clock())
    await add_order(db, "o1", customer, delivered_at=DELIVERED)
    await scheduler.tick()

    clock.set(DUE + timedelta(days=7))
    report = await scheduler.tick()

    assert report.skipped == {"stale": 1}
    assert [(f.status, f.skip_reason) for f in await followups(db)] == [("skipped", "stale")]


async def test_a_back_filled_old_order_is_recorded_as_stale_and_never_sent(
    db: Database, scheduler: Scheduler, clock: MovedClock
) -> None:
    customer = await add_customer(db, "c1", now=clock(), chat_id="100")
    await add_order(db, "o1", customer, delivered_at=DELIVERED - timedelta(days=200))

    report = await scheduler.tick()

    assert (report.planned, report.sent, report.skipped) == (0, 0, {"stale": 1})
    assert await outbox(db) == []


@pytest.mark.parametrize(
    ("field", "reason"),
    [("opted_out_at", "opted_out"), ("unreachable_at", "unreachable")],
)
async def test_an_opted_out_or_unreachable_customer_is_skipped_with_the_reason(
    db: Database, scheduler: Scheduler, clock: MovedClock, field: str, reason: str
) -> None:
    customer = await add_customer(db, "c1", now=clock(), chat_id="100")
    await add_order(db, "o1", customer, delivered_at=DELIVERED)
    await scheduler.tick()
    async with db.uow() as uow:
        await uow.session.execute(
            update(Customer).where(Customer.id == customer).values({field: clock()})
        )
        await uow.commit()

    clock.set(DUE)
    report = await scheduler.tick()

    assert (report.sent, report.skipped) == (0, {reason: 1})
    assert [(f.status, f.skip_reason) for f in await followups(db)] == [("skipped", reason)]
    assert await outbox(db) == []


async def test_a_customer_surveyed_within_the_throttle_is_not_asked_again(
    db: Database, scheduler: Scheduler, clock: MovedClock
) -> None:
    recent = await add_customer(
        db, "c1", now=clock(), chat_id="100", last_surveyed_at=DUE - timedelta(days=89)
    )
    long_ago = await add_customer(
        db, "c2", now=clock(), chat_id="101", last_surveyed_at=DUE - timedelta(days=91)
    )
    await add_order(db, "o1", recent, delivered_at=DELIVERED)
    await add_order(db, "o2", long_ago, delivered_at=DELIVERED)
    await scheduler.tick()

    clock.set(DUE)
    report = await scheduler.tick()

    assert (report.sent, report.skipped) == (1, {"throttled": 1})
    assert [m.chat_id for m in await outbox(db)] == ["101"]


async def test_two_orders_delivered_together_bring_one_survey(
    db: Database, scheduler: Scheduler, clock: MovedClock
) -> None:
    customer = await add_customer(db, "c1", now=clock(), chat_id="100")
    await add_order(db, "o1", customer, delivered_at=DELIVERED)
    await add_order(db, "o2", customer, delivered_at=DELIVERED)
    await scheduler.tick()

    clock.set(DUE)
    report = await scheduler.tick()

    assert (report.sent, report.skipped) == (1, {"throttled": 1})
    assert sorted(f.status for f in await followups(db)) == ["sent", "skipped"]


async def test_a_survey_sent_by_another_path_within_the_throttle_counts(
    db: Database, scheduler: Scheduler, clock: MovedClock
) -> None:
    customer = await add_customer(db, "c1", now=clock(), chat_id="100")
    await add_order(db, "o1", customer, delivered_at=DELIVERED)
    other = await add_order(db, "o0", customer, delivered_at=DELIVERED - timedelta(days=10))
    await scheduler.tick()
    async with db.uow() as uow:  # as the console demo does: sent, without last_surveyed_at
        await uow.session.execute(
            update(FollowUp)
            .where(FollowUp.order_id == other)
            .values(status="answered", sent_at=DELIVERED - timedelta(days=9))
        )
        await uow.commit()

    clock.set(DUE)
    report = await scheduler.tick()

    assert (report.sent, report.skipped) == (0, {"throttled": 1})


async def test_a_due_invitation_found_at_night_waits_for_the_morning(
    db: Database, scheduler: Scheduler, clock: MovedClock
) -> None:
    customer = await add_customer(db, "c1", now=clock(), chat_id="100")
    await add_order(db, "o1", customer, delivered_at=DELIVERED)
    await scheduler.tick()

    clock.set(datetime(2024, 3, 7, 2, 0, tzinfo=UTC))  # 23:00 in Sao Paulo: bot was down
    night = await scheduler.tick()
    [followup] = await followups(db)
    clock.set(followup.due_at)
    morning = await scheduler.tick()

    assert (night.sent, night.deferred) == (0, 1)
    assert followup.due_at == datetime(2024, 3, 7, 12, 0, tzinfo=UTC)
    assert morning.sent == 1


async def test_an_unanswered_survey_is_reminded_once_inside_the_window_then_expires(
    db: Database, scheduler: Scheduler, clock: MovedClock
) -> None:
    customer = await add_customer(db, "c1", now=clock(), chat_id="100")
    await add_order(db, "o1", customer, delivered_at=DELIVERED)
    await scheduler.tick()
    clock.set(DUE)
    await scheduler.tick()

    clock.set(DUE + timedelta(hours=47))
    assert (await scheduler.tick()).reminded == 0
    clock.set(DUE + timedelta(hours=48) + timedelta(hours=9))  # 21:00 local: too late
    assert (await scheduler.tick()).reminded == 0
    clock.set(datetime(2024, 3, 9, 12, 0, tzinfo=UTC))  # 09:00 local the next day
    reminded = await scheduler.tick()
    again = await scheduler.tick()
    clock.set(DUE + timedelta(days=7))
    expired = await scheduler.tick()

    assert (reminded.reminded, again.reminded) == (1, 0)
    assert expired.expired == 1
    assert [m.purpose for m in await outbox(db)] == ["invitation", "reminder", "expiry"]
    [followup] = await followups(db)
    assert (followup.status, followup.expired_at) == ("expired", DUE + timedelta(days=7))


async def test_an_answered_survey_is_neither_reminded_nor_expired(
    db: Database, scheduler: Scheduler, clock: MovedClock
) -> None:
    customer = await add_customer(db, "c1", now=clock(), chat_id="100")
    await add_order(db, "o1", customer, delivered_at=DELIVERED)
    await scheduler.tick()
    clock.set(DUE)
    await scheduler.tick()
    async with db.uow() as uow:
        await uow.session.execute(
            update(FollowUp).values(status="answered", answered_at=DUE + timedelta(hours=1))
        )
        await uow.commit()

    clock.set(DUE + timedelta(days=3))
    reminded = await scheduler.tick()
    clock.set(DUE + timedelta(days=8))
    expired = await scheduler.tick()

    assert (reminded.reminded, expired.expired) == (0, 0)
    assert [m.purpose for m in await outbox(db)] == ["invitation"]


async def test_an_order_imported_by_another_process_is_planned_on_the_next_tick(
    db: Database, db_url: str, scheduler: Scheduler, clock: MovedClock
) -> None:
    customer = await add_customer(db, "c1", now=clock(), chat_id="100")
    await add_order(db, "o1", customer, delivered_at=DELIVERED)
    assert (await scheduler.tick()).planned == 1

    other = await Database.open(db_url, migrate=False)
    try:
        clock.advance(seconds=5)
        await add_order(other, "o2", customer, delivered_at=clock(), updated_at=clock())
    finally:
        await other.close()
    report = await scheduler.tick()

    assert report.planned == 1
    assert len(await followups(db)) == 2


async def test_planning_works_through_more_orders_than_one_batch(
    db: Database, settings: Settings, clock: MovedClock
) -> None:
    scheduler = Scheduler(db, settings, OutboxSurveyStarter(), clock, batch=7)
    customer = await add_customer(db, "c1", now=clock())
    for n in range(30):
        await add_order(db, f"o{n}", customer, delivered_at=DELIVERED)

    assert (await scheduler.tick()).planned == 30


async def test_two_schedulers_sharing_a_database_send_each_invitation_once(
    db: Database, db_url: str, settings: Settings, clock: MovedClock
) -> None:
    for n in range(40):
        customer = await add_customer(db, f"c{n}", now=clock(), chat_id=str(1000 + n))
        await add_order(db, f"o{n}", customer, delivered_at=DELIVERED)
    await Scheduler(db, settings, OutboxSurveyStarter(), clock).tick()
    clock.set(DUE)
    other = await Database.open(db_url, migrate=False)
    try:
        a = Scheduler(db, settings, OutboxSurveyStarter(), clock, batch=5)
        b = Scheduler(other, settings, OutboxSurveyStarter(), clock, batch=5)
        ra, rb = await asyncio.gather(a.tick(), b.tick())
    finally:
        await other.close()

    assert ra.sent + rb.sent == 40
    async with db.uow() as uow:
        count = await uow.session.scalar(select(func.count()).select_from(OutboxMessage))
    assert count == 40
