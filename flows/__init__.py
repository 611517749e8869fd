"""Conversation logic: pure state machines driven by neutral events.

The engine calls ``step`` for every customer event, and ``start_survey``,
``remind_survey``, ``expire_survey`` and ``ask_resolution`` for what the scheduler and
the operators start. Nothing here does I/O or reads the clock.
"""

from flows.effects import (
    AddToTicket,
    AskForReview,
    CloseTicket,
    CompleteSurvey,
    Effect,
    ExportMyData,
    ForgetMe,
    OpenTicket,
    OptIn,
    OptOut,
    RateTicket,
    RecordReason,
    RecordScore,
    ReopenTicket,
    SetLocale,
)
from flows.events import ButtonIn, CommandIn, ContactIn, Event, MediaIn, TextIn
from flows.replies import Button, Plural, Say, say
from flows.router import (
    ask_resolution,
    expire_survey,
    needs_orders,
    remind_survey,
    start_survey,
    step,
)
from flows.state import Facts, OrderRef, Outcome, State

__all__ = [
    "AddToTicket",
    "AskForReview",
    "Button",
    "ButtonIn",
    "CloseTicket",
    "CommandIn",
    "CompleteSurvey",
    "ContactIn",
    "Effect",
    "Event",
    "ExportMyData",
    "Facts",
    "ForgetMe",
    "MediaIn",
    "OpenTicket",
    "OptIn",
    "OptOut",
    "OrderRef",
    "Outcome",
    "Plural",
    "RateTicket",
    "RecordReason",
    "RecordScore",
    "ReopenTicket",
    "Say",
    "SetLocale",
    "State",
    "TextIn",
    "ask_resolution",
    "expire_survey",
    "needs_orders",
    "remind_survey",
    "say",
    "start_survey",
    "step",
]
