from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import select

from bot.app import Database
from storage.models import Customer


async def test_timestamps_come_back_as_aware_utc(db: Database) -> None:
    sao_paulo_noon = datetime(2026, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=-3)))
    async with db.uow() as uow:
        uow.session.add(Customer(external_id="c1", created_at=sao_paulo_noon))
        await uow.commit()
    async with db.uow() as uow:
        got = (await uow.session.execute(select(Customer.created_at))).scalar_one()
    assert got.tzinfo is not None
    assert got.utcoffset() == timedelta(0)
    assert got == datetime(2026, 3, 1, 15, 0, tzinfo=UTC)


async def test_a_unit_of_work_left_without_commit_keeps_nothing(db: Database) -> None:
    async with db.uow() as uow:
        uow.session.add(Customer(external_id="c2", created_at=datetime.now(UTC)))
        await uow.session.flush()
    async with db.uow() as uow:
        count = (await uow.session.execute(select(Customer))).all()
    assert count == []


async def test_migrating_twice_is_harmless(db_url: str) -> None:
    first = await Database.open(db_url)
    await first.close()
    second = await Database.open(db_url)
    await second.close()
