"""Channel adapters: what each speaks (``base``), Telegram on aiogram or python-telegram-bot
(``telegram.build_telegram_channel``), and per-chat ordering (``chat_queue``).

Only ``base`` is imported here: the console and the outbox sender need no chat library.
"""

from bot.channels.port import (
    Channel,
    ConversationKey,
    Forbidden,
    Incoming,
    OutButton,
    Outgoing,
    Probing,
    Rejected,
    RetryAfter,
    SendError,
    Transient,
    Unconfirmed,
    UpdateHandler,
)

__all__ = [
    "Channel",
    "ConversationKey",
    "Forbidden",
    "Incoming",
    "OutButton",
    "Outgoing",
    "Probing",
    "Rejected",
    "RetryAfter",
    "SendError",
    "Transient",
    "Unconfirmed",
    "UpdateHandler",
]
