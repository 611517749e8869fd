"""The operators' side: commands and buttons in the chat, announcements, SLA warnings.

``handle_operator`` is the engine's ``OperatorHandler``; ``announce_ticket`` tells
operators about new and reopened tickets; ``sla_watch`` warns them before a ticket
misses its service-level target (run every minute by ``postsale run``).
"""

from bot.operators.alerts import announce_ticket, sla_watch, targets_of
from bot.operators.base import COMMANDS, OperatorError
from bot.operators.handler import handle_operator
from bot.operators.service import OperatorService

__all__ = [
    "COMMANDS",
    "OperatorError",
    "OperatorService",
    "announce_ticket",
    "handle_operator",
    "sla_watch",
    "targets_of",
]
