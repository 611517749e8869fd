"""The operators' side: commands and buttons in the chat, announcements, SLA warnings.

``handle_operator`` is the pipeline's ``OperatorHandler``; ``OperatorAlerts`` handles
the domain events (new and reopened tickets, SLA warnings) by telling operators.
Operators reach customers through ``bot.handling.CustomerMessenger``, never the engine.
"""

from bot.operators.alerts import OperatorAlerts, announce_ticket, targets_of
from bot.operators.base import COMMANDS, OperatorError
from bot.operators.handler import handle_operator
from bot.operators.service import OperatorService

__all__ = [
    "COMMANDS",
    "OperatorAlerts",
    "OperatorError",
    "OperatorService",
    "announce_ticket",
    "handle_operator",
    "targets_of",
]
