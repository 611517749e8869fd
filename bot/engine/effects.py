"""Carrying out a flow's domain effects inside the message's transaction.

Each effect type of ``flows.effects`` has exactly one handler in ``HANDLERS``
(tests/unit/test_effect_registry.py checks none is missing). Effects that others
react to emit a domain event (``bot.handling.events``) on the context.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import select

from bot.delivery import exports
from bot.handling import Detractor, MessageContext, TicketOpened, TicketReopened
from bot.i18n import render, translate
from flows import effects as fx
from flows.replies import say
from flows.staff import EXPORT_CAPTION, forget_report
from flows.survey import OUR_STORE, review_request
from storage import answers, tickets
from storage.conversations import ConversationRow, CustomerRow, set_locale, set_opted_out
from storage.data_rights import export_customer_data, forget_customer
from storage.models import Order, Ticket

log = logging.getLogger("postsale.effects")

EffectHandler = Callable[["EffectRunner", Any], Awaitable[None]]


class EffectRunner:
    """Applies effects in order; ``results`` feeds reply placeholders such as ``$ticket``."""

    def __init__(
        self, ctx: MessageContext, conv: ConversationRow, customer: CustomerRow | None
    ) -> None:
        self.ctx = ctx
        self.conv = conv
        self.customer = customer
        self.results: dict[str, Any] = {}
        # Work that must come after the flow's replies (e.g. the data export file).
        self.after_replies: list[Callable[[], Awaitable[None]]] = []
        # Follow-ups a recorded score has marked answered: a CSAT press also completes
        # the survey, and marking it again would be a second UPDATE of the row in the
        # buffered writes, which then cannot go out as one statement (storage.sqlite.buffers).
        self.answered: set[int] = set()

    async def run(self, effects: Sequence[object]) -> dict[str, Any]:
        for effect in effects:
            await self._one(effect)
        return self.results

    async def _one(self, effect: object) -> None:
        handler = HANDLERS.get(type(effect))
        if handler is None:
            log.error("unknown effect %r", effect)
            return
        if self.customer is None and type(effect) not in WITHOUT_CUSTOMER:
            log.warning("effect %r without a linked customer ignored", effect)
            return
        await handler(self, effect)

    @property
    def customer_id(self) -> int:
        assert self.customer is not None  # checked in _one
        return self.customer.id

    async def own_order(self, order_id: int | None) -> int | None:
        """An order id the flow picked, kept only if it is this customer's."""
        if order_id is None or self.customer is None:
            return None
        owner = await self.ctx.session.scalar(select(Order.customer_id).where(Order.id == order_id))
        return order_id if owner == self.customer.id else None


async def _set_locale(run: EffectRunner, effect: fx.SetLocale) -> None:
    await set_locale(run.ctx.session, run.conv, run.customer, effect.locale)
    run.ctx.locale = effect.locale


async def _record_score(run: EffectRunner, effect: fx.RecordScore) -> None:
    ctx = run.ctx
    recorded = await answers.record_score(
        ctx.session,
        customer_id=run.customer_id,
        followup_id=effect.followup_id,
        conversation_id=run.conv.id,
        kind=effect.kind,
        score=effect.score,
        now=ctx.now,
    )
    if not recorded:
        log.warning("score for another customer's follow-up %s ignored", effect.followup_id)
    elif effect.followup_id is not None:
        run.answered.add(effect.followup_id)


async def _record_reason(run: EffectRunner, effect: fx.RecordReason) -> None:
    if effect.followup_id is not None:  # the follow-up's NPS reason or CSAT comment
        key = answers.dedup_key(effect.followup_id, effect.kind, run.conv.id, run.ctx.now)
        theme = run.ctx.theme_of(effect.text)
        await answers.record_reason(run.ctx.session, run.customer_id, key, effect.text, theme)


async def _complete_survey(run: EffectRunner, effect: fx.CompleteSurvey) -> None:
    if effect.followup_id is not None and effect.followup_id not in run.answered:
        await answers.mark_answered(
            run.ctx.session, effect.followup_id, run.customer_id, run.ctx.now
        )


async def _open_ticket(run: EffectRunner, effect: fx.OpenTicket) -> None:
    ctx = run.ctx
    ticket = await tickets.open_ticket(
        ctx.session,
        customer_id=run.customer_id,
        order_id=await run.own_order(effect.order_id),
        source=effect.source,
        category=effect.category,
        description=effect.description,
        now=ctx.now,
        theme=ctx.theme_of(effect.description),
    )
    run.results["$ticket"] = ticket.id
    opened = Detractor if ticket.source == "detractor" else TicketOpened
    ctx.emit(opened(ticket.id, ctx.address.channel, ctx.now))


async def _own_ticket(run: EffectRunner, effect: Any) -> Ticket | None:
    ticket = await run.ctx.session.get(Ticket, effect.ticket_id)
    if ticket is None or ticket.customer_id != run.customer_id:
        log.warning("customer %s touched ticket %s that is not theirs", run.customer_id, effect)
        return None
    return ticket


def _on_own_ticket(
    change: Callable[[EffectRunner, Ticket, Any], Awaitable[None]],
) -> EffectHandler:
    """A ticket effect, applied only to the customer's own ticket and in a valid state."""

    async def handle(run: EffectRunner, effect: Any) -> None:
        ticket = await _own_ticket(run, effect)
        if ticket is None:
            return
        try:
            await change(run, ticket, effect)
        except (tickets.TicketStateError, ValueError) as exc:
            log.info("ticket effect %r not applied: %s", effect, exc)

    return handle


async def _add_to_ticket(run: EffectRunner, ticket: Ticket, effect: fx.AddToTicket) -> None:
    await tickets.customer_message(run.ctx.session, ticket, effect.text, run.ctx.now)


async def _close_ticket(run: EffectRunner, ticket: Ticket, _: fx.CloseTicket) -> None:
    await tickets.close(run.ctx.session, ticket, "customer", run.ctx.now)


async def _reopen_ticket(run: EffectRunner, ticket: Ticket, _: fx.ReopenTicket) -> None:
    ctx = run.ctx
    await tickets.reopen(ctx.session, ticket, "customer", ctx.now)
    ctx.emit(TicketReopened(ticket.id, ctx.address.channel, ctx.now))


async def _rate_ticket(run: EffectRunner, ticket: Ticket, effect: fx.RateTicket) -> None:
    await tickets.rate(run.ctx.session, ticket, effect.rating, run.ctx.now)


async def _ask_for_review(run: EffectRunner, effect: fx.AskForReview) -> None:
    run.after_replies.append(lambda: _review_request(run, effect.order_id))


async def _review_request(run: EffectRunner, order_id: int | None) -> None:
    """The review request names ``STORE_NAME`` and links to ``REVIEW_URL`` for the order."""
    ctx, settings = run.ctx, run.ctx.settings
    store = settings.store_name or translate(OUR_STORE, ctx.locale)
    external_id = None
    if await run.own_order(order_id) is not None:
        query = select(Order.external_id).where(Order.id == order_id)
        external_id = await ctx.session.scalar(query)
    url = settings.review_link(external_id) if external_id is not None else None
    await ctx.reply(review_request(store, url), purpose="review")


async def _opt_out(run: EffectRunner, _: fx.OptOut) -> None:
    assert run.customer is not None
    await set_opted_out(run.ctx.session, run.customer, run.ctx.now)


async def _opt_in(run: EffectRunner, _: fx.OptIn) -> None:
    assert run.customer is not None
    await set_opted_out(run.ctx.session, run.customer, None)


async def _export_my_data(run: EffectRunner, _: fx.ExportMyData) -> None:
    run.after_replies.append(lambda: _send_export(run.ctx))


async def _send_export(ctx: MessageContext) -> None:
    if ctx.customer_id is None:
        return
    data = await export_customer_data(ctx.session, ctx.customer_id)
    text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    path = exports.export_path(ctx.settings.data_dir, ctx.customer_id, ctx.now)
    await asyncio.to_thread(exports.write_private, path, text)
    caption = render(say(EXPORT_CAPTION), ctx.locale)
    body = replace(
        caption, document_path=str(path), document_name="mydata.json", discard_after_send=True
    )
    await ctx.reply(body, purpose="export")


async def _forget_me(run: EffectRunner, _: fx.ForgetMe) -> None:
    ctx, customer_id = run.ctx, run.customer_id
    report = await forget_customer(ctx.session, customer_id, ctx.now)
    # The files go too, even if this transaction then fails: a copy of the
    # data is never worth keeping against the customer's wish.
    await asyncio.to_thread(exports.erase_customer_files, ctx.settings.data_dir, customer_id)
    log.info("customer %s forgotten: %s", customer_id, report)
    run.customer = None
    ctx.customer_id = None
    done = forget_report(
        report.chat_links, report.messages, report.answers_kept, report.tickets_kept
    )

    async def tell() -> None:
        await ctx.reply(done, purpose="forget")

    run.after_replies.append(tell)


HANDLERS: dict[type, EffectHandler] = {
    fx.SetLocale: _set_locale,
    fx.RecordScore: _record_score,
    fx.RecordReason: _record_reason,
    fx.CompleteSurvey: _complete_survey,
    fx.OpenTicket: _open_ticket,
    fx.AddToTicket: _on_own_ticket(_add_to_ticket),
    fx.CloseTicket: _on_own_ticket(_close_ticket),
    fx.ReopenTicket: _on_own_ticket(_reopen_ticket),
    fx.RateTicket: _on_own_ticket(_rate_ticket),
    fx.AskForReview: _ask_for_review,
    fx.OptOut: _opt_out,
    fx.OptIn: _opt_in,
    fx.ExportMyData: _export_my_data,
    fx.ForgetMe: _forget_me,
}
# The only effect a chat that is not linked to a customer may have.
WITHOUT_CUSTOMER = frozenset({fx.SetLocale})
