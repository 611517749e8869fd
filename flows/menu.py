"""The command menu a chat app shows next to the text box: commands and their descriptions.

Descriptions are msgids like every other text the customer reads (translated in the
catalogs); channel adapters render them per locale (Telegram: ``setMyCommands``).
"""

from __future__ import annotations

from flows.registry import COMMANDS
from flows.replies import N_
from flows.staff import STAFF_COMMANDS

CUSTOMER_COMMANDS: tuple[tuple[str, str], ...] = tuple(
    (c.name, c.menu) for c in COMMANDS.values() if c.menu is not None
)
"""Every customer sees these (the flows' registered commands, in the registry's order)."""

OPERATOR_COMMANDS: tuple[tuple[str, str], ...] = tuple(
    (c.name, c.menu) for c in STAFF_COMMANDS if c.menu is not None
)
"""Operators and admins see these too (flows.staff's table)."""

LIST_BUTTON = N_("Choose")
"""The button that opens a list of choices (WhatsApp's list message)."""
