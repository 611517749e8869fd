"""Helpers for tests of the operators' side: settings, a chat driver, table snapshots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bot.app import Database
from bot.engine.pipeline import Pipeline
from bot.settings import Settings
from flows.events import ButtonIn, CommandIn, Event, TextIn
from storage.models import (
    ChannelIdentity,
    Customer,
    FollowUp,
    Operator,
    Order,
    OutboxMessage,
    SurveyResponse,
    Ticket,
    TicketEvent,
)
from tests.builders import incoming

OPERATOR, ADMIN = "900", "901"
CUSTOMER_CHAT = "100"
# The tables that hold what operators act on; transcripts, the outbox and the record of
# handled updates change with every message (a refusal is a message too).
DOMAIN = (Customer, ChannelIdentity, Order, FollowUp, SurveyResponse, Ticket, TicketEvent, Operator)


def staff_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "default_locale": "en",
        "operator_ids": [OPERATOR],
        "admin_ids": [ADMIN],
        "data_dir": str(tmp_path / "files"),
        "business_hours": "mon-fri 09:00-18:00",
        "operators_timezone": "America/Sao_Paulo",
        "sla_first_response": "4h",
        "sla_resolution": "48h",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def command(text: str) -> CommandIn:
    name, _, args = text.lstrip("/").partition(" ")
    return CommandIn(name, args.strip())


async def last_outbox_id(db: Database) -> int:
    async with db.uow() as uow:
        return int(await uow.session.scalar(select(func.max(OutboxMessage.id))) or 0)


async def bodies_after(db: Database, after: int, chat_id: str | None = None) -> list[dict]:
    async with db.uow() as uow:
        query = select(OutboxMessage).where(OutboxMessage.id > after).order_by(OutboxMessage.id)
        if chat_id is not None:
            query = query.where(OutboxMessage.chat_id == chat_id)
        return [row.body for row in await uow.session.scalars(query)]


async def send(
    db: Database,
    engine: Pipeline,
    user: str,
    event: Event | str,
    *,
    chat_id: str | None = None,
    chat_type: str = "private",
    language_code: str | None = None,
) -> list[dict]:
    """One update from ``user``; returns what the bot queued for that chat."""
    if isinstance(event, str):
        event = command(event) if event.startswith("/") else TextIn(event)
    chat = chat_id or user
    before = await last_outbox_id(db)
    await engine.handle(
        incoming(
            event,
            chat_id=chat,
            user_id=user,
            chat_type=chat_type,
            language_code=language_code,
        )
    )
    return await bodies_after(db, before, chat)


def press(data: str) -> ButtonIn:
    return ButtonIn(data)


def texts(bodies: list[dict]) -> str:
    return "\n".join(str(b.get("text") or "") for b in bodies)


def buttons(bodies: list[dict]) -> list[str]:
    return [b["data"] for body in bodies for row in body.get("buttons", []) for b in row]


async def snapshot(db: Database) -> dict[str, list[tuple]]:
    """Every row of the domain tables, as plain tuples."""
    found: dict[str, list[tuple]] = {}
    async with db.uow() as uow:
        for model in DOMAIN:
            columns = list(model.__table__.columns)
            rows = await uow.session.execute(select(*columns).order_by(*columns[:1]))
            found[model.__tablename__] = [tuple(r) for r in rows]
    return found


async def invite_to_survey(db: Database, engine: Pipeline, followup_id: int, now: Any) -> None:
    """What the scheduler does when the follow-up is due: the survey invitation."""
    async with db.uow() as uow:
        followup = await uow.session.get(FollowUp, followup_id)
        assert followup is not None
        await engine.messenger.start_survey(uow.session, followup, now)
        await uow.commit()


async def open_complaint(
    db: Database, engine: Pipeline, text: str = "The mug arrived broken", chat: str = CUSTOMER_CHAT
) -> int:
    """The customer of ``chat`` reports a damaged item; returns the new ticket's number."""
    await send(db, engine, chat, "/problem")
    await send(db, engine, chat, press("cat:damaged"))
    await send(db, engine, chat, text)
    async with db.uow() as uow:
        number = await uow.session.scalar(select(func.max(Ticket.id)))
    assert number is not None
    return int(number)
