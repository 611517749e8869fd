"""What a handler of one message gets, below both the engine and the operators.

The engine (``bot.engine``) fills a ``MessageContext`` for every inbound update and
outbound message; operator commands (``bot.operators``) receive an ``UpdateContext``
and reach customers through the ``CustomerMessenger`` port; domain events are
dispatched through ``EventHandlers``, a table the bootstrap builds. Nothing here
imports the engine or the operators, so neither imports the other.
"""

from bot.handling.bus import EventHandler, EventHandlers, MissingHandler
from bot.handling.context import (
    Address,
    ClosedWindow,
    CustomerMessenger,
    MessageContext,
    OperatorHandler,
    Tagger,
    UpdateContext,
    body_of,
)
from bot.handling.events import (
    EVENT_TYPES,
    ChannelHalted,
    Detractor,
    DomainEvent,
    SlaWarning,
    TicketOpened,
    TicketReopened,
)

__all__ = [
    "EVENT_TYPES",
    "Address",
    "ClosedWindow",
    "CustomerMessenger",
    "Detractor",
    "DomainEvent",
    "EventHandler",
    "EventHandlers",
    "MessageContext",
    "MissingHandler",
    "OperatorHandler",
    "ChannelHalted",
    "SlaWarning",
    "TicketOpened",
    "Tagger",
    "TicketReopened",
    "UpdateContext",
    "body_of",
]
