"""WhatsApp's customer service window: free-form messages only within 24 hours of the
customer's last message; outside it, only an approved template may go."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from bot.channels.port import ChatWindow as StoredWindow
from bot.channels.windows import MARGIN, SERVICE_WINDOWS

# Our clock and Meta's differ, and a send takes time to arrive: the window is taken to
# close MARGIN early, so a template goes where a free-form message might just have been
# refused (131047).
WINDOW = SERVICE_WINDOWS["whatsapp"]


@dataclass(frozen=True)
class ChatWindow:
    """What is known of a chat: when the customer last wrote (None: never) and in what
    locale we write to them."""

    last_inbound_at: datetime | None
    locale: str

    def is_open(self, now: datetime) -> bool:
        return self.last_inbound_at is not None and now - self.last_inbound_at < WINDOW - MARGIN


# The bootstrap's lookup of a chat's window in storage (the chat id is the wa_id).
WindowLookup = Callable[[str], Awaitable[StoredWindow]]


def later(first: datetime | None, second: datetime | None) -> datetime | None:
    """The later of two moments, either of which may be unknown."""
    if first is None or second is None:
        return first or second
    return max(first, second)
