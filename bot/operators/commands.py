"""The operators' commands and ``op:`` buttons, each declared once.

One row per command: what runs it, its lines in /help, the role it needs and its entry
in the command menu. The handler dispatches through these tables, the role check
(here and in every ``OperatorService`` method) reads ``ROLES``, and the operators'
/help and the channels' command menus are generated from them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.i18n import translate
from flows.replies import N_
from storage.roles import Role

if TYPE_CHECKING:
    from bot.operators.service import OperatorService

Bodies = list[dict[str, Any]]
RunCommand = Callable[["OperatorService", str, str], Awaitable[Bodies]]
PressButton = Callable[["OperatorService", str, list[str]], Awaitable[Bodies]]
TicketAction = Callable[["OperatorService", str, int], Awaitable[Bodies]]


class OperatorError(Exception):
    """A request that cannot be done as asked; the message says why, for the operator."""


def ticket_number(text: str, lang: str) -> int:
    raw = text.strip().lstrip("#")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12:
        raise OperatorError(
            translate(
                "Which ticket? Give its number, e.g. 12 (got {got}).", lang, got=repr(text.strip())
            )
        )
    return int(raw)


@dataclass(frozen=True)
class OperatorCommand:
    """``/name``: its handler ``(service, user, args)``, /help line, role and menu entry."""

    name: str
    run: RunCommand
    role: Role
    menu: str | None  # msgid of its command-menu description; None: not in the menu
    help: str  # msgid of its /help line


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


_ON: Role = "operator"
# fmt: off
# name, handler, role, menu entry, /help line
_ALL: tuple[OperatorCommand, ...] = (
    OperatorCommand("kpi", _kpi, _ON, N_("KPI summary: 7d, 30d, 90d or a date range"),
        N_("/kpi [7d|30d|90d|YYYY-MM-DD..YYYY-MM-DD] - KPI summary and chart (default 30d)")),
    OperatorCommand("tickets", _tickets, _ON, N_("List tickets: open, mine or all"),
        N_("/tickets [open|mine|all] - tickets, 10 a page")),
    OperatorCommand("ticket", _on_number(lambda s, u, n: s.ticket(u, n)), _ON, N_("Show ticket N"),
        N_("/ticket N - a ticket's details and timeline")),
    OperatorCommand("reply", _reply, _ON, N_("Answer the customer of ticket N"),
        N_("/reply N text - answer the customer of ticket N")),
    OperatorCommand("resolve", _on_number(lambda s, u, n: s.resolve(u, n)), _ON,
        N_("Mark ticket N as solved"),
        N_("/resolve N - mark solved; the customer is asked to confirm")),
    OperatorCommand("reopen", _on_number(lambda s, u, n: s.reopen(u, n)), _ON,
        N_("Reopen ticket N"), N_("/reopen N - open a ticket again")),
    OperatorCommand("assign", _assign, _ON, N_("Take ticket N"),
        N_("/assign N [USER_ID] - assign to you (or to USER_ID)")),
    OperatorCommand("history", _history, "admin", N_("A customer's history"),
        N_("/history CUSTOMER_ID - the customer's last messages")),
    OperatorCommand("operators", _operators, "admin", None,
        N_("/operators [list | add USER_ID [admin] [name] | remove USER_ID]")),
)
# fmt: on
COMMANDS: dict[str, OperatorCommand] = {c.name: c for c in _ALL}
ROLES: dict[str, Role] = {c.name: c.role for c in _ALL}
"""The role each command needs: admins may do everything operators may."""
MENU: tuple[tuple[str, str], ...] = tuple((c.name, c.menu) for c in _ALL if c.menu)
"""The operators' command menu (after the customers' commands)."""


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

HEADINGS: dict[Role, str] = {
    "operator": N_("Operator commands:"),
    "admin": N_("Admin commands:"),
}


def help_text(role: Role, lang: str) -> str:
    """The operators' /help: each role's commands under its heading, admins' last."""
    shown: tuple[Role, ...] = ("operator", "admin") if role == "admin" else ("operator",)
    sections = [
        "\n".join(
            [translate(HEADINGS[r], lang)] + [translate(c.help, lang) for c in _ALL if c.role == r]
        )
        for r in shown
    ]
    return "\n\n".join(sections)
