"""The WhatsApp channel as the registry builds it."""

from __future__ import annotations

from typing import Any

from bot.channels.port import UpdateHandler
from bot.channels.whatsapp.channel import WhatsAppChannel
from bot.settings import Settings

__all__ = ["WhatsAppChannel", "build_whatsapp_channel"]


def build_whatsapp_channel(
    settings: Settings, handler: UpdateHandler, **options: Any
) -> WhatsAppChannel:
    """``options`` tune it (concurrency, retry delay, send timeout, pool size, clock)."""
    return WhatsAppChannel(settings, handler, **options)
