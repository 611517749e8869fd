"""Carrying out a flow's domain effects inside the update's transaction."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import select

from bot.delivery import exports
from bot.engine.context import UpdateContext
from bot.i18n import render, translate
from flows import effects as fx
from flows.replies import say
from flows.staff import EXPORT_CAPTION, forget_report
from flows.survey import OUR_STORE, review_request
from storage import answers, tickets
from storage.conversations import ConversationRow, CustomerRow, set_locale, set_opted_out
from storage.models import Ticket

log = logging.getLogger("postsale.effects")


class EffectRunner:
    """Applies effects in order; ``results`` feeds reply placeholders such as ``$ticket``."""

    def __init__(
        self, ctx: UpdateContext, conv: ConversationRow, customer: CustomerRow | None
    ) -> None:
        self.ctx = ctx
        self.conv = conv
        self.customer = customer
        self.results: dict[str, Any] = {}
        # Work that must come after the flow's replies (e.g. the data export file).
        self.after_replies: list[Callable[[], Awaitable[None]]] = []

    async def run(self, effects: Sequence[object]) -> dict[str, Any]:
        for effect in effects:
            await self._one(effect)
        return self.results

    async def _one(self, effect: object) -> None:
        ctx, session, now = self.ctx, self.ctx.session, self.ctx.now
        customer = self.customer
        if isinstance(effect, fx.SetLocale):
            await set_locale(session, self.conv, customer, effect.locale)
            ctx.locale = effect.locale
            return
        if customer is None:
            log.warning("effect %r without a linked customer ignored", effect)
            return
        if isinstance(effect, fx.RecordScore):
            await self._record_score(effect)
        elif isinstance(effect, fx.RecordReason):
            if effect.followup_id is not None:  # the reason of the follow-up's NPS answer
                key = answers.dedup_key(effect.followup_id, "nps", self.conv.id, now)
                await answers.record_reason(session, customer.id, key, effect.text)
        elif isinstance(effect, fx.CompleteSurvey):
            if effect.followup_id is not None:
                await answers.mark_answered(session, effect.followup_id, customer.id, now)
        elif isinstance(effect, fx.OpenTicket):
            ticket = await tickets.open_ticket(
                session,
                customer_id=customer.id,
                order_id=await self._own_order(effect.order_id),
                source=effect.source,
                category=effect.category,
                description=effect.description,
                now=now,
            )
            self.results["$ticket"] = ticket.id
            await _announce(ctx, ticket)
        elif isinstance(effect, fx.AddToTicket | fx.CloseTicket | fx.ReopenTicket | fx.RateTicket):
            await self._ticket_effect(effect)
        elif isinstance(effect, fx.AskForReview):
            self.after_replies.append(lambda: self._ask_for_review(effect.order_id))
        elif isinstance(effect, fx.OptOut):
            await set_opted_out(session, customer, now)
        elif isinstance(effect, fx.OptIn):
            await set_opted_out(session, customer, None)
        elif isinstance(effect, fx.ExportMyData):
            self.after_replies.append(self._send_export)
        elif isinstance(effect, fx.ForgetMe):
            from storage.data_rights import forget_customer

            report = await forget_customer(session, customer.id, now)
            # The files go too, even if this transaction then fails: a copy of the
            # data is never worth keeping against the customer's wish.
            await asyncio.to_thread(
                exports.erase_customer_files, ctx.settings.data_dir, customer.id
            )
            log.info("customer %s forgotten: %s", customer.id, report)
            self.customer = None
            ctx.customer_id = None
            done = forget_report(
                report.chat_links, report.messages, report.answers_kept, report.tickets_kept
            )

            async def tell() -> None:
                await ctx.reply(done, purpose="forget")

            self.after_replies.append(tell)
        else:
            log.error("unknown effect %r", effect)

    async def _record_score(self, effect: fx.RecordScore) -> None:
        ctx, customer = self.ctx, self.customer
        assert customer is not None
        recorded = await answers.record_score(
            ctx.session,
            customer_id=customer.id,
            followup_id=effect.followup_id,
            conversation_id=self.conv.id,
            kind=effect.kind,
            score=effect.score,
            now=ctx.now,
        )
        if not recorded:
            log.warning("score for another customer's follow-up %s ignored", effect.followup_id)

    async def _own_order(self, order_id: int | None) -> int | None:
        """An order id the flow picked, kept only if it is this customer's."""
        if order_id is None or self.customer is None:
            return None
        from storage.models import Order

        owner = await self.ctx.session.scalar(select(Order.customer_id).where(Order.id == order_id))
        return order_id if owner == self.customer.id else None

    async def _ticket_effect(self, effect: Any) -> None:
        session, now, customer = self.ctx.session, self.ctx.now, self.customer
        assert customer is not None
        ticket = await session.get(Ticket, effect.ticket_id)
        if ticket is None or ticket.customer_id != customer.id:
            log.warning("customer %s touched ticket %s that is not theirs", customer.id, effect)
            return
        try:
            if isinstance(effect, fx.AddToTicket):
                await tickets.customer_message(session, ticket, effect.text, now)
            elif isinstance(effect, fx.CloseTicket):
                await tickets.close(session, ticket, "customer", now)
            elif isinstance(effect, fx.ReopenTicket):
                await tickets.reopen(session, ticket, "customer", now)
                await _announce(self.ctx, ticket, reopened=True)
            elif isinstance(effect, fx.RateTicket):
                await tickets.rate(session, ticket, effect.rating, now)
        except (tickets.TicketStateError, ValueError) as exc:
            log.info("ticket effect %r not applied: %s", effect, exc)

    async def _ask_for_review(self, order_id: int | None) -> None:
        """The review request names ``STORE_NAME`` and links to ``REVIEW_URL`` for the order."""
        ctx, settings = self.ctx, self.ctx.settings
        store = settings.store_name or translate(OUR_STORE, ctx.locale)
        external_id = await self._order_external_id(order_id)
        url = settings.review_link(external_id) if external_id is not None else None
        await ctx.reply(review_request(store, url), purpose="review")

    async def _order_external_id(self, order_id: int | None) -> str | None:
        if await self._own_order(order_id) is None:
            return None
        from storage.models import Order

        return await self.ctx.session.scalar(select(Order.external_id).where(Order.id == order_id))

    async def _send_export(self) -> None:
        from storage.data_rights import export_customer_data

        ctx = self.ctx
        if ctx.customer_id is None:
            return
        data = await export_customer_data(ctx.session, ctx.customer_id)
        text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
        path = exports.export_path(ctx.settings.data_dir, ctx.customer_id, ctx.now)
        await asyncio.to_thread(exports.write_private, path, text)
        body = render(say(EXPORT_CAPTION), ctx.locale)
        body.update(document_path=str(path), document_name="mydata.json")
        body[exports.DISCARD_AFTER_SEND] = True
        await ctx.reply(body, purpose="export")


async def _announce(ctx: UpdateContext, ticket: Ticket, reopened: bool = False) -> None:
    try:
        from bot.operators import announce_ticket
    except ImportError:  # the operators' side is optional for a bare engine
        return
    await announce_ticket(
        ctx.session, ctx.settings, ticket, ctx.now, reopened=reopened, channel=ctx.incoming.channel
    )
