"""What Telegram declares to the core: its send limits, its capabilities, its groups.

Library-independent, so the outbox sender's tests and fakes can use it without aiogram
or python-telegram-bot.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from bot.channels.port import Capabilities, ChannelLimits
from bot.settings import Settings
from bot.startup import StartupError

NAME = "telegram"
DEFAULT_WEBHOOK_PATH = "/telegram/webhook"
GROUP_PER_MINUTE = 20.0  # Bot API: messages a minute to one group

CAPABILITIES = Capabilities(
    buttons_per_message=100,
    buttons_per_row=8,
    request_contact=True,
    command_menu=True,
    edits_buttons=True,
    acknowledges_presses=True,
)


def limits_of(settings: Settings) -> ChannelLimits:
    """``SEND_RATE_GLOBAL`` / ``SEND_RATE_PER_CHAT`` (Telegram's own: 30 and 1 a second)."""
    return ChannelLimits(
        global_rate=settings.send_rate_global,
        per_chat_rate=settings.send_rate_per_chat,
        group_per_minute=GROUP_PER_MINUTE,
    )


def is_group(chat_id: str) -> bool:
    """Telegram's group and supergroup chat ids are negative; a private chat's is the user's."""
    return chat_id.startswith("-")


def webhook_path(webhook_url: str) -> str:
    """The path Telegram posts to: the path of ``WEBHOOK_URL``."""
    path = urlsplit(webhook_url).path
    return path if path and path != "/" else DEFAULT_WEBHOOK_PATH


def token_rejected(api_url: str) -> StartupError:
    return StartupError(
        f"BOT_TOKEN was rejected by the Bot API at {api_url} (Unauthorized):"
        " copy the bot's token from @BotFather into BOT_TOKEN"
    )


def api_unreachable(api_url: str, cause: str) -> StartupError:
    return StartupError(
        f"cannot reach the Bot API at {api_url} ({cause}):"
        " check the network connection, or TELEGRAM_API_URL"
    )


def api_refused(api_url: str, cause: str) -> StartupError:
    return StartupError(
        f"the Bot API at {api_url} refused getMe ({cause}): check BOT_TOKEN and TELEGRAM_API_URL"
    )


__all__ = [
    "CAPABILITIES",
    "GROUP_PER_MINUTE",
    "NAME",
    "api_refused",
    "api_unreachable",
    "is_group",
    "limits_of",
    "token_rejected",
    "webhook_path",
]
