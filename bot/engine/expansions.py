"""Presses that ask for more of a message sent earlier, answered without a flow step.

Two come from channels that cannot show a whole message at once (WhatsApp):
``pick:<row>:<index>``, a group of a two-tap picker (``bot.channels.pickers``), is
answered with that group's buttons; ``open:<row>``, the quick reply of a template sent
outside the 24-hour window, is answered with the message the template stood for, now
that the customer's tap opened the window. Both name the outbox row they come from; a
row of another chat, or one gone, gets a short answer instead.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from bot.channels import pickers
from bot.handling import UpdateContext
from flows.commands import GONE_MESSAGE as GONE
from flows.events import ButtonIn
from flows.replies import say
from storage.models import OutboxMessage
from storage.outbox_body import OutboxBody

log = logging.getLogger("postsale.engine")

OPEN = "open:"


def expansion_of(data: str) -> tuple[str, int, int] | None:
    """``(kind, row id, index)`` of an expanding press, or None for any other button."""
    group = pickers.parse(data)
    if group is not None:
        return ("pick", *group)
    if data.startswith(OPEN) and data[len(OPEN) :].isdigit():
        return ("open", int(data[len(OPEN) :]), 0)
    return None


async def expand(ctx: UpdateContext) -> bool:
    """Answer an expanding press in ``ctx``; False when the update is something else."""
    event = ctx.incoming.event
    found = expansion_of(event.data) if isinstance(event, ButtonIn) else None
    if found is None:
        return False
    kind, row_id, index = found
    body = await _own_row(ctx, row_id)
    answer: OutboxBody | None = None
    if body is not None and kind == "open":
        answer = body
    elif body is not None:
        choices = pickers.second_level(body.buttons, index)
        answer = None if choices is None else OutboxBody(text=body.text, buttons=choices)
    if answer is None:
        log.info("%s press for outbox row %s: nothing to show", kind, row_id)
        await ctx.reply(say(GONE))
    else:
        await ctx.reply(answer)
    return True


async def _own_row(ctx: UpdateContext, row_id: int) -> OutboxBody | None:
    """The body of outbox row ``row_id`` when it went to this chat or to this customer."""
    row = (
        await ctx.session.execute(
            select(
                OutboxMessage.channel,
                OutboxMessage.chat_id,
                OutboxMessage.customer_id,
                OutboxMessage.body,
            ).where(OutboxMessage.id == row_id)
        )
    ).first()
    if row is None or row.channel != ctx.incoming.channel:
        return None
    same_chat = row.chat_id == ctx.incoming.chat_id
    same_customer = row.customer_id is not None and row.customer_id == ctx.customer_id
    if not (same_chat or same_customer):
        return None
    try:
        return OutboxBody.from_json(row.body)
    except ValueError:
        return None


__all__ = ["expand", "expansion_of"]
