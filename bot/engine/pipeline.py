"""The inbound pipeline: one update in, one transaction out.

For each update it checks the update was not handled before, loads the chat's
conversation, resolves links, runs the pure flow, applies its effects, queues the
replies in the outbox and writes the transcript, all in one commit (DESIGN.md
invariants 1, 2 and 5). Messages the bot starts itself go through
``bot.engine.messenger`` instead.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

import flows
from bot.app import Database
from bot.channels.port import Incoming
from bot.engine import linking
from bot.engine.batching import Batching, maybe_operator
from bot.engine.chat_locks import KeyedLocks
from bot.engine.expansions import expand
from bot.engine.group_commit import GroupCommit
from bot.engine.keyboards import chosen_keyboard
from bot.engine.outcome import apply_outcome, state_of
from bot.engine.transcript import describe, payload_of
from bot.engine.update_order import UpdateOrder
from bot.handling import (
    Address,
    CustomerMessenger,
    EventHandlers,
    OperatorHandler,
    Tagger,
    UpdateContext,
)
from bot.metrics import Metrics, about
from bot.settings import Settings
from flows.events import CommandIn
from storage import conversations as convs
from storage.marked_chat import load_marked_chat
from storage.outbox import enqueue
from storage.uow import UnitOfWork, reads_many

log = logging.getLogger("postsale.engine")

# Updates in one group commit at most. ``postsale run`` handles 16 chats at once on
# SQLite, 32 on PostgreSQL (bot/entrypoints/runner.py), so its batches stay under this.
GROUP_LIMIT = 32
# Batches in flight at once on PostgreSQL (SQLite: one, its one writer); measured with
# benchmarks/throughput.py --postgres (README).
PG_GROUP_WORKERS = 2

UnitOfWorkFactory = Callable[[], AbstractAsyncContextManager[UnitOfWork]]


def utcnow() -> datetime:
    return datetime.now(UTC)


class Pipeline:
    """Handles incoming updates: per-chat order, group commit, one flow step each.

    Built by ``bot.bootstrap``, which gives it the messenger (for operator commands),
    the domain-event table and the unit of work to open.
    """

    def __init__(
        self,
        db: Database,
        settings: Settings,
        clock: Callable[[], datetime],
        *,
        messenger: CustomerMessenger,
        events: EventHandlers,
        operator_handler: OperatorHandler | None = None,
        unit_of_work: UnitOfWorkFactory | None = None,
        group_limit: int = GROUP_LIMIT,
        group_workers: int = PG_GROUP_WORKERS,
        tagger: Tagger | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.db = db
        self.tagger = tagger  # themes of the customers' reasons and complaints
        self.metrics = metrics or Metrics()
        self.settings = settings
        self.clock = clock
        self.messenger = messenger
        self.events = events
        self.operator_handler = operator_handler
        self.unit_of_work: UnitOfWorkFactory = unit_of_work or db.uow
        # Called after each commit that queued messages (wakes the outbox sender).
        self.on_queued: list[Callable[[], None]] = []
        # Starts a due survey of a customer who has just linked a chat, in the link's
        # transaction (the scheduler's ``start_due_of``, set by the bootstrap).
        self.on_linked: Callable[[AsyncSession, int, datetime], Awaitable[bool]] | None = None
        # The channels whose sent buttons can be replaced (None: every one); the bootstrap
        # sets it, so a press on WhatsApp queues no keyboard edit that would be dropped.
        self.edits_buttons: frozenset[str] | None = None
        self.chat_locks = KeyedLocks()
        # Webhooks on PostgreSQL: other processes may handle this chat's updates (behind a
        # balancer); the update ids, not the arrival order, decide (bot/engine/update_order.py).
        # A long-polling bot reads its updates in order, alone (Telegram allows one).
        self.order: UpdateOrder | None = None
        if settings.webhook_url and db.engine.dialect.name == "postgresql":
            self.order = UpdateOrder(db, clock)
        # SQLite (one writer): updates that wait for the writer share its next commit.
        # PostgreSQL: a few batches at once, in lock order (bot/engine/batching.py).
        self.group: GroupCommit[Incoming] | None = None
        self.batching: Batching | None = None
        if db.writer_lock is not None and group_limit > 1:
            self.group = GroupCommit(group_limit, self._handle_batch, self._handle_in_order)
        elif db.engine.dialect.name == "postgresql" and group_limit > 1:
            self.batching = Batching(settings, ordered=self.order is not None)
            self.group = GroupCommit(
                group_limit, self._handle_sorted, self._handle_in_order, workers=group_workers
            )

    async def handle(self, incoming: Incoming) -> None:
        """Handle one update in one transaction; a duplicate update is ignored.

        Updates of one chat wait for each other (in arrival order); the database row
        lock on the conversation keeps that true across processes too, and on
        PostgreSQL an older update received by any process goes first.
        """
        with self.metrics.timing(incoming.channel, incoming.update_id, incoming.chat_id):
            if self.order is not None:
                await self.order.run(incoming, self._handle_held)
            else:
                await self._handle_held(incoming)

    async def _handle_held(self, incoming: Incoming) -> None:
        async with self.chat_locks.hold(incoming.key):
            if self.group is None or (self.batching is not None and self.batching.alone(incoming)):
                await self._handle_in_order(incoming)
            else:
                await self.group.submit(incoming)

    async def _handle_in_order(self, incoming: Incoming) -> None:
        """One update in a transaction of its own."""
        await self._handle_batch(lambda: [incoming])

    async def _handle_sorted(self, take: Callable[[], list[Incoming]]) -> None:
        """PostgreSQL: a batch locks its chats in one global order (bot/engine/batching.py)."""
        await self._handle_batch(Batching.in_lock_order(take))

    async def _handle_batch(self, take: Callable[[], list[Incoming]]) -> None:
        """The updates ``take`` gives, one after the other, in one transaction."""
        sent, handled = False, list[str]()
        async with self.unit_of_work() as uow:
            for incoming in take():
                with about(incoming.channel, incoming.update_id, incoming.chat_id):
                    sent = await self._handle_marked(uow.session, incoming, handled) or sent
            await uow.commit()
        self.metrics.handled(handled)
        if sent:
            for callback in self.on_queued:
                callback()

    async def _handle_marked(
        self, session: AsyncSession, incoming: Incoming, handled: list[str]
    ) -> bool:
        """Record the update as handled and handle it; True when it queued messages."""
        now, channel, update_id = self.clock(), incoming.channel, incoming.update_id
        if self.order is not None:
            await self.order.check(session, incoming, now)
        chat: convs.Chat | None = None
        if self._ignored(incoming):
            fresh = await convs.mark_handled(session, channel, update_id, now)
        else:  # marked in the statement that loads (and locks) the chat
            chat = await load_marked_chat(session, channel, incoming.chat_id, update_id, now)
            fresh = chat is not None
        if not fresh:
            log.info("duplicate update %s:%s ignored", channel, update_id)
            self.metrics.updates_duplicate.labels(channel).inc()
            return False
        handled.append(channel)
        return chat is not None and bool((await self._handle(session, incoming, now, chat)).sent)

    def _ignored(self, incoming: Incoming) -> bool:
        """Groups are not customers; only the operators' group is served."""
        is_group = incoming.chat_type != "private"
        return is_group and incoming.chat_id != self.settings.operator_chat_id

    async def _handle(
        self, session: AsyncSession, incoming: Incoming, now: datetime, chat: convs.Chat
    ) -> UpdateContext:
        is_group = incoming.chat_type != "private"
        unlinked_number = incoming.phone is not None and chat.customer is None and not is_group
        if unlinked_number and await linking.follow_number(session, incoming):
            chat = await convs.load_chat(session, incoming.channel, incoming.chat_id, now)
        ctx = UpdateContext(
            session=session,
            settings=self.settings,
            now=now,
            address=Address(incoming.channel, incoming.chat_id),
            locale=linking.locale_of(
                self.settings, chat.customer, chat.conversation, incoming.language_code
            ),
            customer_id=chat.customer.id if chat.customer else None,
            conversation_id=chat.conversation.id,
            incoming=incoming,
            messenger=self.messenger,
            tagger=self.tagger,
        )
        await self._record(ctx, chat)
        if not is_group and await expand(ctx):
            return ctx  # a picker's group, or a template's quick reply
        handler = self.operator_handler
        # Staff ids are ids on OPERATOR_CHANNEL: the same digits elsewhere are nobody's.
        on_staff_channel = incoming.channel == self.settings.operator_channel
        if handler is not None and on_staff_channel and maybe_operator(incoming.event):
            with reads_many():  # operator commands may read many rows (/kpi)
                if await handler(ctx):
                    return ctx
        if not is_group:
            await self._step(ctx, chat)
        return ctx

    async def _record(self, ctx: UpdateContext, chat: convs.Chat) -> None:
        """The incoming transcript line, and the closed keyboard of a pressed button."""
        incoming, session = ctx.incoming, ctx.session
        line = describe(incoming.event, incoming.button_label)
        await convs.record_incoming(
            session, chat.conversation, chat.customer, line, payload_of(incoming), ctx.now
        )
        editable = self.edits_buttons is None or incoming.channel in self.edits_buttons
        closed = chosen_keyboard(incoming) if editable else None
        if closed is not None:
            await enqueue(
                session,
                channel=incoming.channel,
                chat_id=incoming.chat_id,
                body=closed,
                purpose="keyboard",
                now=ctx.now,
                customer_id=ctx.customer_id,
            )

    async def _step(self, ctx: UpdateContext, chat: convs.Chat) -> None:
        """Link if the update links, run one flow step, apply it."""
        session, incoming, now = ctx.session, ctx.incoming, ctx.now
        conv, customer, active = chat.conversation, chat.customer, chat.active_ticket
        link = await linking.resolve_link(
            session, self.settings, incoming, now, linked=customer is not None
        )
        if link is not None and link.customer_id is not None:
            customer = await convs.load_customer(session, link.customer_id)
            await convs.set_conversation_customer(session, conv, link.customer_id)
            ctx.customer_id = link.customer_id
            if customer is not None:
                ctx.locale = linking.locale_of(
                    self.settings, customer, conv, incoming.language_code
                )
                active = await linking.active_ticket(session, customer.id)
        state = state_of(conv)
        facts = await linking.facts(
            session,
            self.settings,
            customer,
            active,
            link.outcome if link else None,
            orders=flows.needs_orders(state),
        )
        event = link.event if link is not None and link.event is not None else incoming.event
        outcome = flows.step(state, event, facts, now)
        await apply_outcome(ctx, conv, customer, outcome, self.events, purpose="reply")
        asked = incoming.event
        if event is not asked and customer is not None and isinstance(asked, CommandIn):
            # Linked by its number on this very message: what it asked is answered too
            # (the survey waiting for the link starts on the next pass, not on top of it).
            again = state_of(conv)
            known = await linking.facts(session, self.settings, customer, active, None)
            outcome = flows.step(again, asked, known, now)
            await apply_outcome(ctx, conv, customer, outcome, self.events, purpose="reply")
            return
        if link is not None and link.outcome == "linked" and link.customer_id is not None:
            await self._start_due(session, link.customer_id, now)

    async def _start_due(self, session: AsyncSession, customer_id: int, now: datetime) -> None:
        """After the welcome: the survey that was waiting for this link, in this transaction."""
        if self.on_linked is None:
            return
        if await self.on_linked(session, customer_id, now):
            log.info("survey started on linking customer %s", customer_id)
