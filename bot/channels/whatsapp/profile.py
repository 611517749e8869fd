"""What WhatsApp declares to the core: its send limits, its capabilities, its start-up errors."""

from __future__ import annotations

from bot.channels.port import Capabilities, ChannelLimits
from bot.channels.whatsapp.window import WINDOW
from bot.settings import Settings
from bot.startup import StartupError

NAME = "whatsapp"
WEBHOOK_PATH = "/whatsapp"
# Meta lets a business burst to one user; its per-pair limit (131056) backs off that
# chat alone, so one a second per chat is ours, not Meta's.
PER_CHAT_RATE = 1.0

CAPABILITIES = Capabilities(
    buttons_per_message=10,  # a list message holds 10 rows
    buttons_per_row=10,
    list_messages=True,
    list_rows=10,
    message_templates=True,
    service_window_hours=WINDOW.total_seconds() / 3600,
    edits_buttons=False,
    acknowledges_presses=False,
    request_contact=False,  # the chat is the phone number already
    command_menu=False,
    uploads_files=True,
)


def limits_of(settings: Settings) -> ChannelLimits:
    """``WHATSAPP_SEND_RATE`` a second for the number, one a second per chat."""
    return ChannelLimits(global_rate=settings.whatsapp_send_rate, per_chat_rate=PER_CHAT_RATE)


def token_rejected(api_url: str, cause: str) -> StartupError:
    return StartupError(
        f"WHATSAPP_TOKEN was rejected by the Graph API at {api_url} ({cause}):"
        " give a valid system user access token with whatsapp_business_messaging"
    )


def api_unreachable(api_url: str, cause: str) -> StartupError:
    return StartupError(
        f"cannot reach the Graph API at {api_url} ({cause}):"
        " check the network connection, or WHATSAPP_API_URL"
    )


def number_refused(api_url: str, cause: str) -> StartupError:
    return StartupError(
        f"the Graph API at {api_url} refused the phone number ({cause}):"
        " check WHATSAPP_PHONE_NUMBER_ID and WHATSAPP_TOKEN"
    )


__all__ = [
    "CAPABILITIES",
    "NAME",
    "WEBHOOK_PATH",
    "api_unreachable",
    "limits_of",
    "number_refused",
    "token_rejected",
]
