"""The conversation engine: one update in, one transaction out.

For each update it checks the update was not handled before, loads the chat's
conversation, resolves links, runs the pure flow, applies its effects, queues the
replies in the outbox and writes the transcript, all in one commit (DESIGN.md
invariants 1, 2 and 5). The scheduler and operator commands use the same code
paths through the ``start_survey`` / ``remind`` / ``expire`` / ``ask_resolution``
/ ``tell_customer`` methods, inside their own transactions.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import flows
from bot.app import Database
from bot.channels.port import Incoming
from bot.engine.chat_locks import KeyedLocks
from bot.engine.context import OperatorHandler, UpdateContext
from bot.engine.effects import EffectRunner
from bot.engine.group_commit import GroupCommit
from bot.engine.keyboards import chosen_keyboard
from bot.engine.update_order import UpdateOrder
from bot.i18n import resolve_locale
from bot.phones import normalise_phone
from bot.settings import Settings
from flows.events import ButtonIn, CommandIn, ContactIn, Event, MediaIn, TextIn
from flows.replies import Say
from flows.state import Facts, OrderRef, Outcome, State
from storage import conversations as convs
from storage import reads_many
from storage.conversations import ConversationRow, CustomerRow
from storage.links import link_by_phone, redeem_token
from storage.models import ChannelIdentity, FollowUp, Order, Ticket
from storage.outbox import enqueue

log = logging.getLogger("postsale.engine")

# Updates in one group commit at most (SQLite). ``postsale run`` handles 16 chats at
# once there (bot/entrypoints/runner.py), so its batches stay under this.
GROUP_LIMIT = 32


def utcnow() -> datetime:
    return datetime.now(UTC)


def describe(event: Event, label: str | None = None) -> str:
    """The transcript line of an incoming event (a button by the ``label`` it showed)."""
    if isinstance(event, TextIn):
        return event.text
    if isinstance(event, CommandIn):
        return f"/{event.name} {event.args}".rstrip()
    if isinstance(event, ButtonIn):
        return f"[button] {label or event.data}"
    if isinstance(event, ContactIn):
        return f"[contact] {event.phone}"
    return f"[{event.kind}]"


def order_label(order: Order, tz: Any) -> str:
    when = order.delivered_at or order.purchased_at
    return f"#{order.external_id} ({when.astimezone(tz):%d/%m})"


class Engine:
    """Runs the flows for incoming updates and for the scheduler, transactionally."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        clock: Callable[[], datetime] = utcnow,
        operator_handler: OperatorHandler | None = None,
        *,
        group_limit: int = GROUP_LIMIT,
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.operator_handler = operator_handler
        # Called after each commit that queued messages (wakes the outbox sender).
        self.on_queued: list[Callable[[], None]] = []
        # Starts a due survey of a customer who has just linked a chat, in the link's
        # transaction (the scheduler's ``start_due_of``, set by the runner).
        self.on_linked: Callable[[AsyncSession, int, datetime], Awaitable[bool]] | None = None
        self.chat_locks = KeyedLocks()
        # SQLite (one writer): updates that wait for the writer share its next commit.
        self.group: GroupCommit[Incoming] | None = None
        if db.writer_lock is not None and group_limit > 1:
            self.group = GroupCommit(group_limit, self._handle_batch, self._handle_in_order)
        # Webhooks on PostgreSQL: other processes may handle this chat's updates (behind a
        # balancer); the update ids, not the arrival order, decide (bot/engine/update_order.py).
        # A long-polling bot reads its updates in order, alone (Telegram allows one).
        self.order: UpdateOrder | None = None
        if settings.webhook_url and db.engine.dialect.name == "postgresql":
            self.order = UpdateOrder(db, clock)

    # -- incoming updates -------------------------------------------------------------

    async def handle(self, incoming: Incoming) -> None:
        """Handle one update in one transaction; a duplicate update is ignored.

        Updates of one chat wait for each other (in arrival order); the database row
        lock on the conversation keeps that true across processes too, and on
        PostgreSQL an older update received by any process goes first.
        """
        if self.order is not None:
            await self.order.run(incoming, self._handle_held)
        else:
            await self._handle_held(incoming)

    async def _handle_held(self, incoming: Incoming) -> None:
        async with self.chat_locks.hold(incoming.key):
            if self.group is not None:
                await self.group.submit(incoming)
            else:
                await self._handle_in_order(incoming)

    async def _handle_in_order(self, incoming: Incoming) -> None:
        """One update in a transaction of its own."""
        await self._handle_batch(lambda: [incoming])

    async def _handle_batch(self, take: Callable[[], list[Incoming]]) -> None:
        """The updates ``take`` gives, one after the other, in one transaction."""
        sent = False
        async with self.db.uow(small=True) as uow:
            for incoming in take():
                sent = await self._handle_marked(uow.session, incoming) or sent
            await uow.commit()
        if sent:
            self._wake()

    async def _handle_marked(self, session: AsyncSession, incoming: Incoming) -> bool:
        """Record the update as handled and handle it; True when it queued messages."""
        now = self.clock()
        if self.order is not None:
            await self.order.check(session, incoming, now)
        if not await convs.mark_handled(session, incoming.channel, incoming.update_id, now):
            log.info("duplicate update %s:%s ignored", incoming.channel, incoming.update_id)
            return False
        ctx = await self._handle(session, incoming, now)
        return ctx is not None and bool(ctx.sent)

    def _wake(self) -> None:
        for callback in self.on_queued:
            callback()

    async def _handle(
        self, session: AsyncSession, incoming: Incoming, now: datetime
    ) -> UpdateContext | None:
        event = incoming.event
        is_group = incoming.chat_type != "private"
        if is_group and incoming.chat_id != self.settings.operator_chat_id:
            return None  # groups are not customers; only the operators' group is served
        chat = await convs.load_chat(session, incoming.channel, incoming.chat_id, now)
        conv, customer, active_ticket = chat.conversation, chat.customer, chat.active_ticket
        locale = self._locale(customer, conv, incoming.language_code)
        ctx = UpdateContext(
            session=session,
            settings=self.settings,
            now=now,
            incoming=incoming,
            locale=locale,
            engine=self,
            customer_id=customer.id if customer else None,
            conversation_id=conv.id,
        )
        await convs.record_incoming(
            session, conv, customer, describe(event, incoming.button_label), _payload(incoming), now
        )
        closed = chosen_keyboard(incoming)
        if closed is not None:
            await enqueue(
                session,
                channel=incoming.channel,
                chat_id=incoming.chat_id,
                body=closed,
                purpose="keyboard",
                now=now,
                customer_id=ctx.customer_id,
            )
        handler = self.operator_handler
        if handler is not None and _maybe_operator(event):
            # Operator commands may read many rows (/kpi: back on SQLite's thread).
            with reads_many():
                if await handler(ctx):
                    return ctx
        if is_group:
            return ctx

        link = await self._resolve_link(session, incoming, now)
        if link is not None and link.customer_id is not None:
            customer = await convs.load_customer(session, link.customer_id)
            await convs.set_conversation_customer(session, conv, link.customer_id)
            ctx.customer_id = link.customer_id
            if customer is not None:
                ctx.locale = locale = self._locale(customer, conv, incoming.language_code)
                active_ticket = await self._active_ticket(session, customer.id)
        state = _state(conv)
        facts = await self._facts(
            session,
            customer,
            active_ticket,
            link.outcome if link else None,
            orders=flows.needs_orders(state),
        )
        outcome = flows.step(state, event, facts, now)
        await self._apply(ctx, conv, customer, outcome, purpose="reply")
        if link is not None and link.outcome == "linked" and link.customer_id is not None:
            await self._start_due(session, link.customer_id, now)
        return ctx

    async def _start_due(self, session: AsyncSession, customer_id: int, now: datetime) -> None:
        """After the welcome: the survey that was waiting for this link, in this transaction."""
        if self.on_linked is None:
            return
        if await self.on_linked(session, customer_id, now):
            log.info("survey started on linking customer %s", customer_id)

    def _locale(
        self, customer: CustomerRow | None, conv: ConversationRow, language_code: str | None
    ) -> str:
        chosen = (customer.locale if customer else None) or conv.locale
        return resolve_locale(chosen, language_code, self.settings.default_locale)

    async def _resolve_link(
        self, session: AsyncSession, incoming: Incoming, now: datetime
    ) -> _Link | None:
        event = incoming.event
        chat, user, lang = incoming.chat_id, incoming.user_id, incoming.language_code
        if isinstance(event, CommandIn) and event.name == "start" and event.args.strip():
            result = await redeem_token(
                session,
                event.args.strip(),
                channel=incoming.channel,
                chat_id=chat,
                user_id=user,
                language_code=lang,
                now=now,
            )
            return _Link(result.outcome, result.customer_id)
        if isinstance(event, ContactIn):
            if not event.own:
                return _Link("not_own", None)
            phone = normalise_phone(event.phone, self.settings.default_locale)
            if phone is None:
                return _Link("no_match", None)
            result = await link_by_phone(
                session,
                phone,
                channel=incoming.channel,
                chat_id=chat,
                user_id=user,
                language_code=lang,
                now=now,
            )
            return _Link(result.outcome, result.customer_id)
        return None

    async def _active_ticket(self, session: AsyncSession, customer_id: int) -> int | None:
        from storage.tickets import active_ticket_of

        ticket = await active_ticket_of(session, customer_id)
        return ticket.id if ticket else None

    async def _facts(
        self,
        session: AsyncSession,
        customer: CustomerRow | None,
        active_ticket: int | None,
        link: str | None,
        *,
        orders: bool = True,
    ) -> Facts:
        if customer is None:
            return Facts(linked=False, link=link)
        found: Sequence[Order] = ()
        if orders:
            # No autoflush: the update's transcript line is written with its replies.
            with session.no_autoflush:
                found = await self._orders(session, customer)
        return Facts(
            linked=True,
            customer_name=customer.name,
            orders=tuple(OrderRef(o.id, order_label(o, self.settings.tz)) for o in found),
            active_ticket=active_ticket,
            opted_out=customer.opted_out_at is not None,
            link=link,
        )

    async def _orders(self, session: AsyncSession, customer: CustomerRow) -> Sequence[Order]:
        """The customer's last five delivered orders, newest first."""
        return (
            await session.scalars(
                select(Order)
                .where(Order.customer_id == customer.id, Order.delivered_at.is_not(None))
                .order_by(Order.delivered_at.desc(), Order.id.desc())
                .limit(5)
            )
        ).all()

    async def _apply(
        self,
        ctx: UpdateContext,
        conv: ConversationRow,
        customer: CustomerRow | None,
        outcome: Outcome,
        *,
        purpose: str,
    ) -> None:
        """Apply a flow's outcome: effects, then replies, then the new state."""
        runner = EffectRunner(ctx, conv, customer)
        results = await runner.run(outcome.effects)
        for say in outcome.replies:
            for part in _flatten(say):
                await ctx.reply(_substitute(part, results), purpose=purpose)
        await convs.save_state(
            ctx.session, conv, outcome.state.flow, outcome.state.state, outcome.state.data, ctx.now
        )
        for after in runner.after_replies:
            await after()

    # -- started by the scheduler or by operators, inside their transaction -------------

    async def _customer_chat(
        self, session: AsyncSession, customer_id: int
    ) -> ChannelIdentity | None:
        return await session.scalar(
            select(ChannelIdentity)
            .where(ChannelIdentity.customer_id == customer_id)
            .order_by(ChannelIdentity.linked_at.desc(), ChannelIdentity.id.desc())
            .limit(1)
        )

    async def _outbound(
        self,
        session: AsyncSession,
        customer_id: int,
        now: datetime,
        run: Callable[[State], Outcome],
        purpose: str,
        followup_id: int | None = None,
    ) -> bool:
        identity = await self._customer_chat(session, customer_id)
        if identity is None:
            return False
        chat = await convs.load_chat(session, identity.channel, identity.chat_id, now)
        conv, customer = chat.conversation, chat.customer
        if customer is None or customer.id != customer_id:
            customer = await convs.load_customer(session, customer_id)
        await convs.set_conversation_customer(session, conv, customer_id)
        incoming = Incoming(
            channel=identity.channel,
            update_id="",
            chat_id=identity.chat_id,
            user_id=identity.user_id or "",
            chat_type="private",
            event=TextIn(""),
            language_code=identity.language_code,
        )
        ctx = UpdateContext(
            session=session,
            settings=self.settings,
            now=now,
            incoming=incoming,
            locale=self._locale(customer, conv, identity.language_code),
            engine=self,
            customer_id=customer_id,
            conversation_id=conv.id,
            followup_id=followup_id,
        )
        await self._apply(ctx, conv, customer, run(_state(conv)), purpose=purpose)
        return True

    async def start_survey(self, session: AsyncSession, followup: FollowUp, now: datetime) -> bool:
        """Invite the customer to the survey of ``followup``; False when no chat is linked."""
        order = await session.get(Order, followup.order_id)
        if order is None:
            return False
        ref = OrderRef(order.id, order_label(order, self.settings.tz))
        return await self._outbound(
            session,
            followup.customer_id,
            now,
            lambda state: flows.start_survey(state, followup.id, ref, now),
            "invitation",
            followup.id,
        )

    async def remind(self, session: AsyncSession, followup: FollowUp, now: datetime) -> bool:
        return await self._outbound(
            session,
            followup.customer_id,
            now,
            lambda state: flows.remind_survey(state, followup.id, now),
            "reminder",
        )

    async def expire(self, session: AsyncSession, followup: FollowUp, now: datetime) -> None:
        await self._outbound(
            session,
            followup.customer_id,
            now,
            lambda state: flows.expire_survey(state, followup.id, now),
            "expiry",
        )

    async def ask_resolution(self, session: AsyncSession, ticket: Ticket, now: datetime) -> bool:
        """After an operator resolves a ticket: ask the customer whether it is solved."""
        if ticket.customer_id is None:
            return False
        return await self._outbound(
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
        return await self._outbound(
            session,
            customer_id,
            now,
            lambda state: Outcome(state=state, replies=(say,), effects=()),
            purpose,
        )


class _Link:
    __slots__ = ("customer_id", "outcome")

    def __init__(self, outcome: str, customer_id: int | None) -> None:
        self.outcome = outcome
        self.customer_id = customer_id


def _state(conv: ConversationRow) -> State:
    return State(flow=conv.flow, state=conv.state, data=dict(conv.data or {}))


def _maybe_operator(event: Event) -> bool:
    if isinstance(event, CommandIn):
        return True
    return isinstance(event, ButtonIn) and event.data.startswith("op:")


def _payload(incoming: Incoming) -> dict[str, Any] | None:
    event = incoming.event
    if isinstance(event, ButtonIn):
        label = incoming.button_label
        return {"button": event.data, "label": label} if label else {"button": event.data}
    if isinstance(event, MediaIn):
        return {"media": event.kind}
    if isinstance(event, ContactIn):
        return {"contact": event.phone, "own": event.own}
    return None


def _flatten(say: Say) -> list[Say]:
    parts = [replace(say, extra=())]
    for extra in say.extra:
        parts.extend(_flatten(extra))
    return parts


def _substitute(say: Say, results: dict[str, Any]) -> Say:
    if not results or not any(isinstance(v, str) and v in results for _, v in say.params):
        return say
    params = tuple((k, results.get(v, v) if isinstance(v, str) else v) for k, v in say.params)
    return replace(say, params=params)
