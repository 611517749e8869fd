"""SQLAlchemy models: the whole persistent state of postsale, one module per part.

Every timestamp is UTC (``UTCDateTime``); money is integer cents. Importing this package
registers every table on ``Base.metadata`` (what migrations compare against).
"""

from storage.models.base import NAMING, Base, BigId
from storage.models.conversations import Conversation, FollowUp, Message, SurveyResponse
from storage.models.customers import ChannelIdentity, Customer, LinkToken, MarketingSpend, Order
from storage.models.deliveries import DeliveryNotice, WebhookDelivery
from storage.models.plumbing import (
    DeadUpdate,
    HandledUpdate,
    KeyValue,
    OutboxMessage,
    ReceivedUpdate,
)
from storage.models.themes import ThemeCorrection
from storage.models.tickets import Operator, Ticket, TicketEvent
from storage.models.web import WebAction, WebLink

__all__ = [
    "NAMING",
    "Base",
    "BigId",
    "Customer",
    "LinkToken",
    "ChannelIdentity",
    "Order",
    "MarketingSpend",
    "FollowUp",
    "Conversation",
    "Message",
    "SurveyResponse",
    "Ticket",
    "TicketEvent",
    "Operator",
    "OutboxMessage",
    "HandledUpdate",
    "DeadUpdate",
    "ReceivedUpdate",
    "KeyValue",
    "DeliveryNotice",
    "WebhookDelivery",
    "ThemeCorrection",
    "WebAction",
    "WebLink",
]
