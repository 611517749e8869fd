"""What the bot says to customers and strangers about the support team's side.

The texts are gettext message ids like every flow's (translated in ``bot/locales``);
the operators' own screens are built in ``bot.operators``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from flows.replies import N_, Plural, Say, say

StaffRole = Literal["operator", "admin"]


@dataclass(frozen=True)
class StaffCommand:
    """A support-team command as the chat shows it: role, menu entry and /help line.

    ``bot.operators.commands`` gives each its handler; the channels' command menus
    read ``flows.menu.OPERATOR_COMMANDS``, made from this table.
    """

    name: str
    role: StaffRole
    menu: str | None  # msgid of its command-menu description; None: not in the menu
    help: str  # msgid of its /help line


_ON: StaffRole = "operator"
# fmt: off
STAFF_COMMANDS: tuple[StaffCommand, ...] = (
    StaffCommand("kpi", _ON, N_("KPI summary: 7d, 30d, 90d or a date range"),
        N_("/kpi [7d|30d|90d|YYYY-MM-DD..YYYY-MM-DD] - KPI summary and chart (default 30d)")),
    StaffCommand("tickets", _ON, N_("List tickets: open, mine or all"),
        N_("/tickets [open|mine|all] - tickets, 10 a page")),
    StaffCommand("ticket", _ON, N_("Show ticket N"),
        N_("/ticket N - a ticket's details and timeline")),
    StaffCommand("reply", _ON, N_("Answer the customer of ticket N"),
        N_("/reply N text - answer the customer of ticket N")),
    StaffCommand("resolve", _ON, N_("Mark ticket N as solved"),
        N_("/resolve N - mark solved; the customer is asked to confirm")),
    StaffCommand("reopen", _ON, N_("Reopen ticket N"), N_("/reopen N - open a ticket again")),
    StaffCommand("assign", _ON, N_("Take ticket N"),
        N_("/assign N [USER_ID] - assign to you (or to USER_ID)")),
    StaffCommand("theme", _ON, N_("Correct the theme of ticket N"),
        N_("/theme N THEME - correct what ticket N is about (and its NPS answer); "
           "/kpi themes [period] - every group's themes")),
    StaffCommand("web", _ON, N_("A sign-in link to the web admin"),
        N_("/web - a one-time link to sign in to the web admin (private chat, 10 minutes)")),
    StaffCommand("history", "admin", N_("A customer's history"),
        N_("/history CUSTOMER_ID - the customer's last messages")),
    StaffCommand("operators", "admin", None,
        N_("/operators [list | add USER_ID [admin] [name] | remove USER_ID]")),
)
# fmt: on
HELP_HEADINGS: dict[StaffRole, str] = {
    "operator": N_("Operator commands:"),
    "admin": N_("Admin commands:"),
}

REFUSAL = N_(
    "Sorry, that command is only for our support team. If you need help, send /help or /problem."
)
ADMINS_ONLY = N_("Sorry, only admins may do that.")
REPLY_HEADER = N_("Message from our team about ticket #{n}:")
EXPORT_CAPTION = N_("Your data, as a JSON file.")
FORGET_DONE = N_(
    "What was done: your name, phone number and e-mail were erased. Removed: {chats}. "
    "Deleted: the text of {messages}. Kept without your name, so that our statistics "
    "stay correct: {answers} and {tickets}."
)


def forget_report(chats: int, messages: int, answers: int, tickets: int) -> Say:
    """``FORGET_DONE`` with each count in the plural form its language gives it."""
    return say(
        FORGET_DONE,
        chats=Plural("{n} chat link", "{n} chat links", chats),
        messages=Plural("{n} message", "{n} messages", messages),
        answers=Plural("{n} survey answer", "{n} survey answers", answers),
        tickets=Plural("{n} ticket", "{n} tickets", tickets),
    )


__all__ = [
    "ADMINS_ONLY",
    "HELP_HEADINGS",
    "STAFF_COMMANDS",
    "StaffCommand",
    "StaffRole",
    "EXPORT_CAPTION",
    "FORGET_DONE",
    "REFUSAL",
    "REPLY_HEADER",
    "forget_report",
]
