"""The Telegram channel chosen by ``BOT_FRAMEWORK``: aiogram (default) or python-telegram-bot.

The rest of the bot sees only ``TelegramChannel`` (``start``, ``stop``, ``close``,
``send``, ``acknowledge``, ``routes``) and the neutral types of
``bot.channels.port``; which library runs is decided here and nowhere else.
"""

from __future__ import annotations

from typing import Any

from bot.channels.attempts import Unavailable
from bot.channels.port import UpdateHandler
from bot.channels.telegram.base import Stopping, TelegramChannel
from bot.settings import Settings

__all__ = ["Stopping", "TelegramChannel", "Unavailable", "build_telegram_channel"]


def build_telegram_channel(
    settings: Settings, handler: UpdateHandler, **options: Any
) -> TelegramChannel:
    """The adapter of ``settings.bot_framework``; ``options`` tune it (pool, concurrency)."""
    if settings.bot_framework == "ptb":
        from bot.channels.telegram.ptb_channel import PtbChannel

        return PtbChannel(settings, handler, **options)
    from bot.channels.telegram.aiogram_import import import_aiogram

    import_aiogram()  # before the adapter's modules import aiogram: 106 MB less
    from bot.channels.telegram.aiogram_channel import AiogramChannel

    return AiogramChannel(settings, handler, **options)
