"""Service windows: how long after a person's last message a channel lets us write freely.

WhatsApp allows free-form messages for 24 hours after the customer's last message;
outside that only an approved template goes. The channel itself decides per send
(``bot.channels.whatsapp``); the operators' side reads the same rule to warn an
operator whose reply will arrive as a template.
"""

from __future__ import annotations

from datetime import datetime, timedelta

SERVICE_WINDOWS: dict[str, timedelta] = {"whatsapp": timedelta(hours=24)}
MARGIN = timedelta(seconds=60)  # a send takes a moment: do not start one at the last second


def window_of(channel: str) -> timedelta | None:
    """How long ``channel``'s window lasts (None: it has none)."""
    return SERVICE_WINDOWS.get(channel)


def is_open(channel: str, last_inbound_at: datetime | None, now: datetime) -> bool:
    """Whether a free-form message may go to a chat that last wrote at ``last_inbound_at``."""
    window = window_of(channel)
    if window is None:
        return True
    return last_inbound_at is not None and now < last_inbound_at + window - MARGIN


__all__ = ["MARGIN", "SERVICE_WINDOWS", "is_open", "window_of"]
