"""The operators' command table: every command has its /help line and menu entry in every
catalog, every ``op:`` button names a command, and /help and the menus come from it."""

from __future__ import annotations

import pytest

from bot.channels.telegram.common import menu_scopes
from bot.i18n import LOCALES, catalog, translate
from bot.operators.base import COMMANDS as ROLE_OF
from bot.operators.commands import BUTTONS, COMMANDS, HANDLERS, help_text
from flows.menu import CUSTOMER_COMMANDS
from flows.menu import OPERATOR_COMMANDS as MENU
from flows.staff import STAFF_COMMANDS


@pytest.mark.parametrize("locale", LOCALES)
def test_every_operator_command_has_its_help_line_and_menu_entry_in_each_catalog(
    locale: str,
) -> None:
    for command in COMMANDS.values():
        assert catalog(locale).get(command.help, "").startswith(f"/{command.name}")
        assert command.menu is None or catalog(locale).get(command.menu)


@pytest.mark.parametrize("locale", LOCALES)
def test_the_help_shows_operators_their_commands_and_admins_everything(locale: str) -> None:
    for role in ("operator", "admin"):
        text = help_text(role, locale)
        lines = [line.split(" ")[0] for line in text.splitlines()]
        allowed = [c.name for c in COMMANDS.values() if role == "admin" or c.role == "operator"]
        assert [line[1:] for line in lines if line.startswith("/")] == allowed
    assert "/history" not in help_text("operator", locale)


def test_the_english_help_reads_as_before() -> None:
    assert help_text("admin", "en") == (
        "Operator commands:\n"
        "/kpi [7d|30d|90d|YYYY-MM-DD..YYYY-MM-DD] - KPI summary and chart (default 30d)\n"
        "/tickets [open|mine|all] - tickets, 10 a page\n"
        "/ticket N - a ticket's details and timeline\n"
        "/reply N text - answer the customer of ticket N\n"
        "/resolve N - mark solved; the customer is asked to confirm\n"
        "/reopen N - open a ticket again\n"
        "/assign N [USER_ID] - assign to you (or to USER_ID)\n"
        "/theme N THEME - correct what ticket N is about (and its NPS answer); "
        "/kpi themes [period] - every group's themes\n"
        "/web - a one-time link to sign in to the web admin (private chat, 10 minutes)\n"
        "\n"
        "Admin commands:\n"
        "/history CUSTOMER_ID - the customer's last messages\n"
        "/operators [list | add USER_ID [admin] [name] | remove USER_ID]"
    )


def test_every_declared_command_has_exactly_one_handler() -> None:
    assert [c.name for c in STAFF_COMMANDS] == list(COMMANDS) == list(HANDLERS)


def test_the_role_check_and_the_buttons_read_the_same_table() -> None:
    assert {name: c.role for name, c in COMMANDS.items()} == ROLE_OF
    assert {b.command for b in BUTTONS.values()} <= set(COMMANDS)


def test_the_operators_menu_is_the_tables_menu_entries_after_the_customers() -> None:
    scopes = menu_scopes("en", ["900"], "-500")
    chat = next(s for s in scopes if s.chat_id == "900")
    group = next(s for s in scopes if s.chat_id == "-500")
    names = [name for name, _ in MENU]
    assert [n for n, _ in chat.commands] == [n for n, _ in CUSTOMER_COMMANDS] + names
    assert [n for n, _ in group.commands] == names
    assert names == [c.name for c in COMMANDS.values() if c.menu]
    assert dict(group.commands)["kpi"] == translate(COMMANDS["kpi"].menu or "", "en")
