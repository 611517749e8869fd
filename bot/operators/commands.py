"""The operators' commands and ``op:`` buttons: each command's handler, each button's.

Which commands there are, the role each needs, its menu entry and its /help line are
``flows.staff.STAFF_COMMANDS`` (the channels' menus read them there); this module gives
each its handler, and the ``op:`` buttons a table of their own. ``handler.py``
dispatches through these tables and the operators' /help is generated from them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.i18n import translate
from bot.operators.base import Body, OperatorError, ticket_number
from bot.operators.service import OperatorService
from bot.operators.web_link import web_link
from flows.staff import HELP_HEADINGS, STAFF_COMMANDS, StaffCommand, StaffRole

Bodies = list[Body]
RunCommand = Callable[[OperatorService, str, str], Awaitable[Bodies]]
PressButton = Callable[[OperatorService, str, list[str]], Awaitable[Bodies]]
TicketAction = Callable[[OperatorService, str, int], Awaitable[Bodies]]


@dataclass(frozen=True)
class OperatorCommand:
    """``/name``: its declaration (role, menu entry, /help line) and its handler."""

    spec: StaffCommand
    run: RunCommand

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def role(self) -> StaffRole:
        return self.spec.role

    @property
    def help(self) -> str:
        return self.spec.help

    @property
    def menu(self) -> str | None:
        return self.spec.menu


@dataclass(frozen=True)
class OperatorButton:
    """``op:<kind>:...``: the command whose role it needs, and its handler."""

    kind: str
    command: str
    press: PressButton


def _split(args: str) -> tuple[str, str]:
    first, _, rest = args.partition(" ")
    return first, rest.strip()


def _page(text: str) -> int:
    return int(text) if text.isascii() and text.isdigit() and len(text) < 6 else 1


def _arg(parts: list[str], i: int) -> str:
    return parts[i] if len(parts) > i else ""


async def _kpi(s: OperatorService, user: str, args: str) -> Bodies:
    if args.lower() in ("help", "def", "definitions"):
        return await s.kpi_definitions(user)
    first, rest = _split(args)
    if first.lower() == "themes":
        return await s.kpi_themes(user, rest)
    return await s.kpi(user, args)


async def _tickets(s: OperatorService, user: str, args: str) -> Bodies:
    which, page = _split(args)
    return await s.tickets(user, which.lower() or "open", _page(page))


def _on_number(action: TicketAction) -> RunCommand:
    """``/name N``: the action on ticket N (what follows N is not read)."""

    async def run(s: OperatorService, user: str, args: str) -> Bodies:
        return await action(s, user, ticket_number(_split(args)[0], s.lang))

    return run


async def _reply(s: OperatorService, user: str, args: str) -> Bodies:
    number, rest = _split(args)
    if not number:
        raise OperatorError(
            translate("Use /reply N text, e.g. /reply 12 Your parcel left today.", s.lang)
        )
    return await s.reply(user, ticket_number(number, s.lang), rest)


async def _assign(s: OperatorService, user: str, args: str) -> Bodies:
    number, rest = _split(args)
    return await s.assign(user, ticket_number(number, s.lang), rest)


async def _history(s: OperatorService, user: str, args: str) -> Bodies:
    return await s.history(user, args)


async def _operators(s: OperatorService, user: str, args: str) -> Bodies:
    return await s.operators(user, args)


HANDLERS: dict[str, RunCommand] = {
    "kpi": _kpi,
    "tickets": _tickets,
    "ticket": _on_number(lambda s, user, n: s.ticket(user, n)),
    "reply": _reply,
    "resolve": _on_number(lambda s, user, n: s.resolve(user, n)),
    "reopen": _on_number(lambda s, user, n: s.reopen(user, n)),
    "assign": _assign,
    "theme": lambda s, user, args: s.theme(user, args),
    "web": lambda s, user, args: web_link(s, user),
    "history": _history,
    "operators": _operators,
}
COMMANDS: dict[str, OperatorCommand] = {
    c.name: OperatorCommand(c, HANDLERS[c.name]) for c in STAFF_COMMANDS
}
assert set(HANDLERS) == set(COMMANDS), "every declared command has one handler"


async def _kpi_button(s: OperatorService, user: str, parts: list[str]) -> Bodies:
    arg = _arg(parts, 2)
    return await (s.kpi_definitions(user) if arg == "def" else s.kpi(user, arg))


async def _list_button(s: OperatorService, user: str, parts: list[str]) -> Bodies:
    return await s.tickets(user, _arg(parts, 2) or "open", _page(_arg(parts, 3)))


def _on_ticket(action: TicketAction) -> PressButton:
    """``op:<kind>:N``: the action on ticket N."""

    async def press(s: OperatorService, user: str, parts: list[str]) -> Bodies:
        return await action(s, user, ticket_number(_arg(parts, 2), s.lang))

    return press


BUTTONS: dict[str, OperatorButton] = {
    b.kind: b
    for b in (
        OperatorButton("t", "ticket", _on_ticket(lambda s, user, n: s.ticket(user, n))),
        OperatorButton("res", "resolve", _on_ticket(lambda s, user, n: s.resolve(user, n))),
        OperatorButton("asg", "assign", _on_ticket(lambda s, user, n: s.assign(user, n))),
        OperatorButton("reo", "reopen", _on_ticket(lambda s, user, n: s.reopen(user, n))),
        OperatorButton("tl", "tickets", _list_button),
        OperatorButton("kpi", "kpi", _kpi_button),
    )
}
assert all(b.command in COMMANDS for b in BUTTONS.values())


def help_text(role: StaffRole, lang: str) -> str:
    """The operators' /help: each role's commands under its heading, admins' last."""
    shown: tuple[StaffRole, ...] = ("operator", "admin") if role == "admin" else ("operator",)
    sections = [
        "\n".join(
            [translate(HELP_HEADINGS[r], lang)]
            + [translate(c.help, lang) for c in STAFF_COMMANDS if c.role == r]
        )
        for r in shown
    ]
    return "\n\n".join(sections)
