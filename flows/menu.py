"""The command menu a chat app shows next to the text box: commands and their descriptions.

Descriptions are msgids like every other text the customer reads (translated in the
catalogs); channel adapters render them per locale (Telegram: ``setMyCommands``).
"""

from __future__ import annotations

from flows.registry import COMMANDS
from flows.replies import N_

CUSTOMER_COMMANDS: tuple[tuple[str, str], ...] = tuple(
    (c.name, c.menu) for c in COMMANDS.values() if c.menu is not None
)
"""Every customer sees these (the flows' registered commands, in the registry's order)."""

OPERATOR_COMMANDS: tuple[tuple[str, str], ...] = (
    ("kpi", N_("KPI summary: 7d, 30d, 90d or a date range")),
    ("tickets", N_("List tickets: open, mine or all")),
    ("ticket", N_("Show ticket N")),
    ("reply", N_("Answer the customer of ticket N")),
    ("resolve", N_("Mark ticket N as solved")),
    ("reopen", N_("Reopen ticket N")),
    ("assign", N_("Take ticket N")),
    ("history", N_("A customer's history")),
)
"""Operators and admins see these too."""
