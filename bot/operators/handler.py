"""Operator commands and ``op:`` buttons in the chat: parse, check the role, dispatch.

The role is checked here, before the arguments are read (so a stranger never learns
more than a refusal), and again by every ``OperatorService`` method.
"""

from __future__ import annotations

from bot.handling import UpdateContext
from bot.i18n import translate
from bot.operators.access import NotAllowed, staff_ids
from bot.operators.base import COMMANDS, Body, OperatorError, ticket_number
from bot.operators.service import OperatorService
from flows.events import ButtonIn, CommandIn
from flows.replies import N_, say
from flows.staff import ADMINS_ONLY, REFUSAL
from storage.roles import role_of

OPERATOR_HELP = N_("""\
Operator commands:
/kpi [7d|30d|90d|YYYY-MM-DD..YYYY-MM-DD] - KPI summary and chart (default 30d)
/tickets [open|mine|all] - tickets, 10 a page
/ticket N - a ticket's details and timeline
/reply N text - answer the customer of ticket N
/resolve N - mark solved; the customer is asked to confirm
/reopen N - open a ticket again
/assign N [USER_ID] - assign to you (or to USER_ID)""")
ADMIN_HELP = N_("""\
Admin commands:
/history CUSTOMER_ID - the customer's last messages
/operators [list | add USER_ID [admin] [name] | remove USER_ID]""")

# op:<kind>:... button -> the command whose role it needs
BUTTONS = {
    "t": "ticket",
    "res": "resolve",
    "asg": "assign",
    "reo": "reopen",
    "tl": "tickets",
    "kpi": "kpi",
}


async def handle_operator(ctx: UpdateContext) -> bool:
    """Handle an operator command or button; False leaves the update to the customer flows."""
    event = ctx.incoming.event
    user = ctx.incoming.user_id
    service = OperatorService(ctx.session, ctx.settings, ctx.messenger, ctx.now, ctx.locale)
    try:
        if isinstance(event, CommandIn):
            name = event.name.lower().split("@", 1)[0]
            if name == "help":
                await _help(ctx)
                return False  # the customer commands' help follows
            if name not in COMMANDS:
                return False
            await service.allow(user, name)
            bodies = await _command(service, user, name, event.args.strip())
        elif isinstance(event, ButtonIn) and event.data.startswith("op:"):
            kind = event.data.split(":")[1] if event.data.count(":") else ""
            if kind not in BUTTONS:
                await ctx.reply({"text": translate("This button is no longer valid.", ctx.locale)})
                return True
            await service.allow(user, BUTTONS[kind])
            bodies = await _button(service, user, event.data)
        else:
            return False
    except NotAllowed as refused:
        text = ADMINS_ONLY if refused.role is not None else REFUSAL
        await ctx.reply(say(text), purpose="refusal")
        return True
    except OperatorError as exc:
        await ctx.reply({"text": str(exc)}, purpose="operator")
        return True
    for body in bodies:
        await ctx.reply(body, purpose="operator")
    return True


async def _help(ctx: UpdateContext) -> None:
    role = await role_of(ctx.session, staff_ids(ctx.settings), ctx.incoming.user_id)
    if role is not None:
        text = translate(OPERATOR_HELP, ctx.locale)
        if role == "admin":
            text += "\n\n" + translate(ADMIN_HELP, ctx.locale)
        await ctx.reply({"text": text}, purpose="operator")


def _split(args: str) -> tuple[str, str]:
    first, _, rest = args.partition(" ")
    return first, rest.strip()


async def _command(service: OperatorService, user: str, name: str, args: str) -> list[Body]:
    if name == "kpi":
        if args.lower() in ("help", "def", "definitions"):
            return await service.kpi_definitions(user)
        return await service.kpi(user, args)
    if name == "tickets":
        which, page = _split(args)
        return await service.tickets(user, which.lower() or "open", _page(page))
    if name == "history":
        return await service.history(user, args)
    if name == "operators":
        return await service.operators(user, args)
    number, rest = _split(args)
    if name == "reply" and not number:
        raise OperatorError(
            translate("Use /reply N text, e.g. /reply 12 Your parcel left today.", service.lang)
        )
    n = ticket_number(number, service.lang)
    if name == "ticket":
        return await service.ticket(user, n)
    if name == "reply":
        return await service.reply(user, n, rest)
    if name == "resolve":
        return await service.resolve(user, n)
    if name == "reopen":
        return await service.reopen(user, n)
    return await service.assign(user, n, rest)


def _page(text: str) -> int:
    return int(text) if text.isascii() and text.isdigit() and len(text) < 6 else 1


async def _button(service: OperatorService, user: str, data: str) -> list[Body]:
    parts = data.split(":")
    kind, arg = parts[1], parts[2] if len(parts) > 2 else ""
    if kind == "kpi":
        return await (service.kpi_definitions(user) if arg == "def" else service.kpi(user, arg))
    if kind == "tl":
        return await service.tickets(user, arg or "open", _page(parts[3] if len(parts) > 3 else ""))
    n = ticket_number(arg, service.lang)
    if kind == "t":
        return await service.ticket(user, n)
    if kind == "res":
        return await service.resolve(user, n)
    if kind == "asg":
        return await service.assign(user, n)
    return await service.reopen(user, n)
