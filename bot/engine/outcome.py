"""Carrying out a flow's ``Outcome`` in a message's transaction: effects, events, replies, state.

Shared by the inbound pipeline and the outbound messenger, so that an update and a
message the bot starts itself apply an outcome the same way.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.engine.effects import EffectRunner
from bot.handling import EventHandlers, MessageContext
from flows.replies import Say
from flows.state import Outcome, State
from storage import conversations as convs
from storage.conversations import ConversationRow, CustomerRow


def state_of(conv: ConversationRow) -> State:
    return State(flow=conv.flow, state=conv.state, data=dict(conv.data or {}))


async def apply_outcome(
    ctx: MessageContext,
    conv: ConversationRow,
    customer: CustomerRow | None,
    outcome: Outcome,
    events: EventHandlers,
    *,
    purpose: str,
) -> None:
    """Effects, then the events they emitted, then the replies, then the new state.

    The events are handled before the replies are queued: a ticket's announcement
    to the operators is queued before the customer's answer, as it always was.
    """
    runner = EffectRunner(ctx, conv, customer)
    results = await runner.run(outcome.effects)
    await events.dispatch(ctx.session, ctx.events)
    for say in outcome.replies:
        for part in _flatten(say):
            await ctx.reply(_substitute(part, results), purpose=purpose)
    await convs.save_state(
        ctx.session, conv, outcome.state.flow, outcome.state.state, outcome.state.data, ctx.now
    )
    for after in runner.after_replies:
        await after()


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
