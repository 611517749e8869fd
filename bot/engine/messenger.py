"""Messages the bot starts itself: survey invitations, reminders, expiries, delivery
notices, operators' words.

Used by the scheduler and by operator commands, inside the caller's transaction. The
customer's latest linked chat is the message's ``Address``; its flow step is applied
as an update's would be (``apply_outcome``), with no incoming update to pretend.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import flows
from bot.channels.windows import is_open, window_of
from bot.engine.linking import locale_of, order_label
from bot.engine.outcome import apply_outcome, state_of
from bot.handling import Address, ClosedWindow, EventHandlers, MessageContext
from bot.settings import Settings
from flows.notices import DeliveryNews, delivery_notice
from flows.replies import Say
from flows.state import OrderRef, Outcome, State
from storage import conversations as convs
from storage.models import ChannelIdentity, DeliveryNotice, FollowUp, Order, Ticket
from storage.phone_chats import reach_by_phone
from storage.windows import chat_seen


class Messenger:
    """Starts flow steps towards a customer; each is False when no chat is linked."""

    def __init__(self, settings: Settings, events: EventHandlers) -> None:
        self.settings = settings
        self.events = events

    async def _customer_chat(
        self, session: AsyncSession, customer_id: int, now: datetime
    ) -> ChannelIdentity | None:
        """The chat linked last that can still be reached; else, where a channel reaches
        phone numbers (WhatsApp), the customer's number there."""
        found = await session.scalar(
            select(ChannelIdentity)
            .where(
                ChannelIdentity.customer_id == customer_id,
                ChannelIdentity.unreachable_at.is_(None),
            )
            .order_by(ChannelIdentity.linked_at.desc(), ChannelIdentity.id.desc())
            .limit(1)
        )
        channel = self.settings.phone_channel
        if found is not None or channel is None:
            return found
        return await reach_by_phone(session, channel, customer_id, now)

    async def _send(
        self,
        session: AsyncSession,
        customer_id: int,
        now: datetime,
        run: Callable[[State], Outcome],
        purpose: str,
        followup_id: int | None = None,
    ) -> bool:
        identity = await self._customer_chat(session, customer_id, now)
        if identity is None:
            return False
        chat = await convs.load_chat(session, identity.channel, identity.chat_id, now)
        conv, customer = chat.conversation, chat.customer
        if customer is None or customer.id != customer_id:
            customer = await convs.load_customer(session, customer_id)
        await convs.set_conversation_customer(session, conv, customer_id)
        ctx = MessageContext(
            session=session,
            settings=self.settings,
            now=now,
            address=Address(identity.channel, identity.chat_id),
            locale=locale_of(self.settings, customer, conv, identity.language_code),
            customer_id=customer_id,
            conversation_id=conv.id,
            followup_id=followup_id,
        )
        await apply_outcome(ctx, conv, customer, run(state_of(conv)), self.events, purpose=purpose)
        return True

    async def start_survey(self, session: AsyncSession, followup: FollowUp, now: datetime) -> bool:
        """Invite the customer to the survey of ``followup``."""
        order = await session.get(Order, followup.order_id)
        if order is None:
            return False
        ref = OrderRef(order.id, order_label(order, self.settings.tz))
        return await self._send(
            session,
            followup.customer_id,
            now,
            lambda state: flows.start_survey(state, followup.id, ref, now),
            "invitation",
            followup.id,
        )

    async def remind(self, session: AsyncSession, followup: FollowUp, now: datetime) -> bool:
        return await self._send(
            session,
            followup.customer_id,
            now,
            lambda state: flows.remind_survey(state, followup.id, now),
            "reminder",
        )

    async def expire(self, session: AsyncSession, followup: FollowUp, now: datetime) -> None:
        await self._send(
            session,
            followup.customer_id,
            now,
            lambda state: flows.expire_survey(state, followup.id, now),
            "expiry",
        )

    async def send_notice(
        self,
        session: AsyncSession,
        notice: DeliveryNotice,
        order: Order,
        now: datetime,
        zone: tzinfo,
    ) -> bool:
        """Tell the customer the delivery news of ``notice`` (dates in ``zone``, theirs)."""
        later = order.estimated_delivery_at
        moved = later if notice.estimate_at and later and later > notice.estimate_at else None
        news = DeliveryNews(
            notice.kind,
            OrderRef(order.id, order_label(order, self.settings.tz)),
            order.tracking_url,
            f"{moved.astimezone(zone):%d/%m}" if moved else None,
        )
        return await self._send(
            session,
            notice.customer_id,
            now,
            lambda state: delivery_notice(state, news),
            "notice",
        )

    async def ask_resolution(self, session: AsyncSession, ticket: Ticket, now: datetime) -> bool:
        """After an operator resolves a ticket: ask the customer whether it is solved."""
        if ticket.customer_id is None:
            return False
        return await self._send(
            session,
            ticket.customer_id,
            now,
            lambda state: flows.ask_resolution(state, ticket.id, now),
            "resolution",
        )

    async def tell_customer(
        self,
        session: AsyncSession,
        customer_id: int,
        text: str,
        now: datetime,
        purpose: str = "operator",
    ) -> bool:
        """Send an operator's words, verbatim, to the customer's linked chat."""
        say = Say(text=text, verbatim=True)
        return await self._send(
            session,
            customer_id,
            now,
            lambda state: Outcome(state=state, replies=(say,), effects=()),
            purpose,
        )

    async def closed_window(
        self, session: AsyncSession, customer_id: int, now: datetime
    ) -> ClosedWindow | None:
        """Where the customer's chat has a service window that is closed, which and since."""
        identity = await self._customer_chat(session, customer_id, now)
        if identity is None or window_of(identity.channel) is None:
            return None
        seen = await chat_seen(session, identity.channel, identity.chat_id)
        if is_open(identity.channel, seen.last_inbound_at, now):
            return None
        return ClosedWindow(identity.channel, seen.last_inbound_at)
