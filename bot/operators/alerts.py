"""Telling operators: new and reopened tickets, SLA warnings (domain-event handlers).

Where: the operators' own addresses, never the customer's channel: the operators'
group (``OPERATOR_CHAT_ID``) when one is set, otherwise the private chat of every
operator and admin (on Telegram a user's private chat id is their user id), all on
``OPERATOR_CHANNEL``. Messages go through the outbox in the emitting transaction; the
bootstrap maps each domain event to its handler here (``OperatorAlerts``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.handling import ChannelHalted, Detractor, SlaWarning, TicketOpened, TicketReopened
from bot.i18n import resolve_locale, translate
from bot.operators import ticket_view as view
from bot.operators.access import staff_ids
from bot.operators.kpi_view import duration
from bot.settings import Settings
from flows.business_hours import BusinessHours
from flows.replies import N_
from storage.models import Conversation, Customer, Ticket
from storage.outbox import enqueue
from storage.outbox_body import OutboxBody
from storage.read.sla import Targets
from storage.roles import staff
from storage.themes import opening_answer

log = logging.getLogger("postsale.operators")


HALTED = N_(
    "⚠️ Sending on {channel} is paused until {until}: {reason}. The messages stay queued "
    "and go once the pause ends; if it happens again, check the account's limits and "
    "quality rating."
)


def targets_of(settings: Settings) -> Targets:
    """The service-level targets from settings (``ValueError`` names a bad BUSINESS_HOURS)."""
    try:
        hours = BusinessHours.parse(settings.business_hours)
    except ValueError as exc:
        raise ValueError(f"BUSINESS_HOURS: {exc}") from exc
    return Targets(
        hours=hours,
        tz=settings.operators_tz,
        first_response_s=int(settings.sla_first_response.total_seconds()),
        resolution_s=int(settings.sla_resolution.total_seconds()),
    )


async def destinations(session: AsyncSession, settings: Settings) -> list[str]:
    """The chats operators are told things in (on ``settings.operator_channel``)."""
    if settings.operator_chat_id:
        return [settings.operator_chat_id]
    return [member.user_id for member in await staff(session, staff_ids(settings))]


async def chat_locales(
    session: AsyncSession, settings: Settings, channel: str, chats: list[str]
) -> dict[str, str]:
    """The language of each chat: the one chosen there (/language), else DEFAULT_LOCALE."""
    rows = await session.execute(
        select(Conversation.chat_id, Conversation.locale).where(
            Conversation.channel == channel,
            Conversation.chat_id.in_(chats),
            Conversation.locale.is_not(None),
        )
    )
    chosen = {chat_id: locale for chat_id, locale in rows}
    return {c: resolve_locale(chosen.get(c), None, settings.default_locale) for c in chats}


async def tell_operators(
    session: AsyncSession,
    settings: Settings,
    body: Callable[[str], OutboxBody],
    now: datetime,
    *,
    purpose: str,
    channel: str | None = None,
) -> int:
    """Queue ``body(locale)`` to every operators' destination; returns how many were queued.

    ``channel`` overrides ``OPERATOR_CHANNEL``, the channel the destinations are on.
    """
    channel = channel or settings.operator_channel
    chats = await destinations(session, settings)
    if not chats:
        log.info("no operator chat to tell (%s): set OPERATOR_CHAT_ID or OPERATOR_IDS", purpose)
    locales = await chat_locales(session, settings, channel, chats)
    for chat_id in chats:
        await enqueue(
            session,
            channel=channel,
            chat_id=chat_id,
            body=body(locales[chat_id]),
            purpose=purpose,
            now=now,
        )
    return len(chats)


async def opening_score(session: AsyncSession, ticket: Ticket) -> int | None:
    """The score of the NPS answer that opened a detractor ticket."""
    answer = await opening_answer(session, ticket)
    return None if answer is None else answer.score


async def announce_ticket(
    session: AsyncSession,
    settings: Settings,
    ticket: Ticket,
    now: datetime,
    *,
    reopened: bool = False,
) -> None:
    """A new (or reopened) ticket, with buttons to open, take and resolve it.

    Operators are told on ``OPERATOR_CHANNEL`` whichever channel the customer wrote on.
    """
    customer = await session.get(Customer, ticket.customer_id) if ticket.customer_id else None
    nps = await opening_score(session, ticket)
    tz = settings.operators_tz

    def body(lang: str) -> OutboxBody:
        return view.announcement(ticket, customer, tz, lang, reopened=reopened, nps=nps)

    await tell_operators(session, settings, body, now, purpose="ticket")


def warning(ticket: Ticket, near: SlaWarning, settings: Settings, lang: str) -> OutboxBody:
    first = near.kind == "first_response"
    target = settings.sla_first_response if first else settings.sla_resolution
    limit = duration(target.total_seconds())
    n = ticket.id
    if near.remaining_bs <= 0:
        missed = (
            N_("⚠️ Ticket #{n} has missed its first response target ({limit} in business hours).")
            if first
            else N_("⚠️ Ticket #{n} has missed its resolution target ({limit} in business hours).")
        )
        text = translate(missed, lang, n=n, limit=limit)
    else:
        due = (
            N_(
                "⏰ Ticket #{n}: first response due in {left} of business time "
                "(by {due}; target {limit} in business hours)."
            )
            if first
            else N_(
                "⏰ Ticket #{n}: resolution due in {left} of business time "
                "(by {due}; target {limit} in business hours)."
            )
        )
        by = view.when(near.due_at, settings.operators_tz)
        text = translate(due, lang, n=n, left=duration(near.remaining_bs), due=by, limit=limit)
    return OutboxBody(text, view.actions(ticket, lang, open_button=True))


class OperatorAlerts:
    """The operators' handlers of domain events (wired by ``bot.bootstrap``)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def ticket_opened(self, session: AsyncSession, event: TicketOpened | Detractor) -> None:
        ticket = await session.get(Ticket, event.ticket_id)
        if ticket is not None:
            await announce_ticket(session, self.settings, ticket, event.at)

    async def ticket_reopened(self, session: AsyncSession, event: TicketReopened) -> None:
        ticket = await session.get(Ticket, event.ticket_id)
        if ticket is not None:
            await announce_ticket(session, self.settings, ticket, event.at, reopened=True)

    async def channel_halted(self, session: AsyncSession, event: ChannelHalted) -> None:
        settings = self.settings
        until = view.when(event.until, settings.operators_tz)

        def body(lang: str) -> OutboxBody:
            text = translate(HALTED, lang, channel=event.channel, reason=event.reason, until=until)
            return OutboxBody(text)

        await tell_operators(session, settings, body, event.at, purpose="alert")

    async def sla_warning(self, session: AsyncSession, event: SlaWarning) -> None:
        ticket = await session.get(Ticket, event.ticket_id)
        if ticket is None:
            return
        settings = self.settings

        def body(lang: str) -> OutboxBody:
            return warning(ticket, event, settings, lang)

        await tell_operators(session, settings, body, event.at, purpose="sla")
