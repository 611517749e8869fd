"""Channel adapters: what each speaks (``port``), Telegram on aiogram or python-telegram-bot
(``telegram.build_telegram_channel``), the terminal (``console``), the channels the settings
enable (``registry``) and per-chat ordering (``chat_queue``).

Only ``port`` is imported here: the console and the outbox sender need no chat library.
"""

from bot.channels.port import (
    Acknowledging,
    Capabilities,
    Channel,
    ChannelLimits,
    ChatRetryAfter,
    ConversationKey,
    Forbidden,
    Halted,
    Incoming,
    OutButton,
    Outgoing,
    Probing,
    Receipt,
    ReceiptHandler,
    Receiver,
    Rejected,
    RetryAfter,
    Routes,
    SendError,
    Transient,
    Unconfirmed,
    UpdateHandler,
)

__all__ = [
    "Acknowledging",
    "Capabilities",
    "Channel",
    "ChannelLimits",
    "ChatRetryAfter",
    "ConversationKey",
    "Forbidden",
    "Halted",
    "Incoming",
    "OutButton",
    "Outgoing",
    "Probing",
    "Receipt",
    "ReceiptHandler",
    "Receiver",
    "Rejected",
    "RetryAfter",
    "Routes",
    "SendError",
    "Transient",
    "Unconfirmed",
    "UpdateHandler",
]
