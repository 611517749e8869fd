"""Operator commands and ``op:`` buttons in the chat: parse, check the role, dispatch.

The commands and buttons are the tables of ``bot.operators.commands``. The role is
checked here, before the arguments are read (so a stranger never learns more than a
refusal), and again by every ``OperatorService`` method.
"""

from __future__ import annotations

from bot.handling import UpdateContext
from bot.i18n import translate
from bot.operators.access import NotAllowed, staff_ids
from bot.operators.base import Body, OperatorError
from bot.operators.commands import BUTTONS, COMMANDS, help_text
from bot.operators.service import OperatorService
from flows.events import ButtonIn, CommandIn
from flows.replies import say
from flows.staff import ADMINS_ONLY, REFUSAL
from storage.roles import role_of


async def handle_operator(ctx: UpdateContext) -> bool:
    """Handle an operator command or button; False leaves the update to the customer flows."""
    event = ctx.incoming.event
    if isinstance(event, CommandIn) and event.name.lower().split("@", 1)[0] == "help":
        await _help(ctx)
        return False  # the customer commands' help follows
    if isinstance(event, ButtonIn) and _stale(event.data):
        await ctx.reply(Body(translate("This button is no longer valid.", ctx.locale)))
        return True
    private = ctx.incoming.chat_type == "private"
    service = OperatorService(
        ctx.session, ctx.settings, ctx.messenger, ctx.now, ctx.locale, private=private
    )
    try:
        bodies = await _dispatch(service, ctx.incoming.user_id, event)
    except NotAllowed as refused:
        text = ADMINS_ONLY if refused.role is not None else REFUSAL
        await ctx.reply(say(text), purpose="refusal")
        return True
    except OperatorError as exc:
        await ctx.reply(Body(str(exc)), purpose="operator")
        return True
    if bodies is None:
        return False
    for body in bodies:
        await ctx.reply(body, purpose="operator")
    return True


async def _dispatch(service: OperatorService, user: str, event: object) -> list[Body] | None:
    """The answer to a staff command or ``op:`` button; None when the event is neither."""
    if isinstance(event, CommandIn):
        command = COMMANDS.get(event.name.lower().split("@", 1)[0])
        if command is None:
            return None
        await service.allow(user, command.name)
        return await command.run(service, user, event.args.strip())
    if isinstance(event, ButtonIn) and event.data.startswith("op:"):
        parts = event.data.split(":")
        button = BUTTONS[parts[1]]
        await service.allow(user, button.command)
        return await button.press(service, user, parts)
    return None


def _stale(data: str) -> bool:
    """An ``op:`` button of a kind this version no longer has."""
    return data.startswith("op:") and data.split(":")[1] not in BUTTONS


async def _help(ctx: UpdateContext) -> None:
    role = await role_of(ctx.session, staff_ids(ctx.settings), ctx.incoming.user_id)
    if role is not None:
        await ctx.reply(Body(help_text(role, ctx.locale)), purpose="operator")
