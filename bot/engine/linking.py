"""Linking a chat to a customer, and the facts a flow step is given about them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.port import Incoming
from bot.i18n import resolve_locale
from bot.phones import normalise_phone, number_variants
from bot.settings import Settings
from flows.events import CommandIn, ContactIn, Event
from flows.state import Facts, OrderRef
from storage.conversations import ConversationRow, CustomerRow
from storage.links import link_by_phone, move_chat, redeem_token
from storage.models import Order
from storage.tickets import active_ticket_of


@dataclass(frozen=True, slots=True)
class Link:
    """What a deep link, a shared phone or the chat's own number did: ``linked``, ..."""

    outcome: str
    customer_id: int | None
    # The chat's number was tried (WhatsApp): the step answers as to a shared contact.
    event: Event | None = None


def order_label(order: Order, tz: Any) -> str:
    when = order.delivered_at or order.purchased_at
    return f"#{order.external_id} ({when.astimezone(tz):%d/%m})"


def locale_of(
    settings: Settings,
    customer: CustomerRow | None,
    conv: ConversationRow,
    language_code: str | None,
) -> str:
    """The customer's chosen language, else the chat's, else the client's, else the default."""
    chosen = (customer.locale if customer else None) or conv.locale
    return resolve_locale(chosen, language_code, settings.default_locale)


async def resolve_link(
    session: AsyncSession,
    settings: Settings,
    incoming: Incoming,
    now: datetime,
    *,
    linked: bool = False,
) -> Link | None:
    """Redeem ``/start TOKEN`` or a shared phone, or link an unlinked chat by the number
    its channel vouches for; None when the update is none of these."""
    event = incoming.event
    if isinstance(event, CommandIn) and event.name == "start" and event.args.strip():
        return await _link(redeem_token, session, event.args.strip(), incoming, now)
    if incoming.phone is not None and not linked:
        numbers = number_variants(incoming.phone)
        found = await _link(link_by_phone, session, numbers, incoming, now)
        outcome = "phone_unknown" if found.outcome == "no_match" else found.outcome
        return Link(outcome, found.customer_id, ContactIn(incoming.phone))
    if not isinstance(event, ContactIn):
        return None
    if not event.own:
        return Link("not_own", None)
    phone = normalise_phone(event.phone, settings.default_locale)
    if phone is None:
        return Link("no_match", None)
    return await _link(link_by_phone, session, phone, incoming, now)


async def follow_number(session: AsyncSession, incoming: Incoming) -> bool:
    """A chat reached by the customer's stored number answers from another form of it
    (Brazil's ninth digit): the chat, its conversation and its queue move to that id.
    True when one moved (only an unlinked chat asks: linked ones pay nothing)."""
    for number in number_variants(incoming.phone or "")[1:]:
        if await move_chat(session, incoming.channel, number.lstrip("+"), incoming.chat_id):
            return True
    return False


async def _link(
    link: Callable[..., Awaitable[Any]],
    session: AsyncSession,
    key: str | tuple[str, ...],
    incoming: Incoming,
    now: datetime,
) -> Link:
    """Link the update's chat by ``key`` (a token or a phone number)."""
    result = await link(
        session,
        key,
        channel=incoming.channel,
        chat_id=incoming.chat_id,
        user_id=incoming.user_id,
        language_code=incoming.language_code,
        now=now,
    )
    return Link(result.outcome, result.customer_id)


async def active_ticket(session: AsyncSession, customer_id: int) -> int | None:
    ticket = await active_ticket_of(session, customer_id)
    return ticket.id if ticket else None


async def facts(
    session: AsyncSession,
    settings: Settings,
    customer: CustomerRow | None,
    active: int | None,
    link: str | None,
    *,
    orders: bool = True,
) -> Facts:
    """What the flow step knows of the customer (their orders only when it needs them)."""
    if customer is None:
        return Facts(linked=False, link=link)
    found: Sequence[Order] = ()
    if orders:
        # No autoflush: the update's transcript line is written with its replies.
        with session.no_autoflush:
            found = await recent_orders(session, customer.id)
    return Facts(
        linked=True,
        customer_name=customer.name,
        orders=tuple(OrderRef(o.id, order_label(o, settings.tz)) for o in found),
        active_ticket=active,
        opted_out=customer.opted_out_at is not None,
        link=link,
    )


async def recent_orders(session: AsyncSession, customer_id: int) -> Sequence[Order]:
    """The customer's last five delivered orders, newest first."""
    return (
        await session.scalars(
            select(Order)
            .where(Order.customer_id == customer_id, Order.delivered_at.is_not(None))
            .order_by(Order.delivered_at.desc(), Order.id.desc())
            .limit(5)
        )
    ).all()
