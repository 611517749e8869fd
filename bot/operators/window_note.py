"""What an operator is told when their reply reaches a closed service window (WhatsApp)."""

from __future__ import annotations

from bot.handling import ClosedWindow
from bot.i18n import translate
from bot.operators import ticket_view as view
from bot.settings import Settings
from flows.replies import N_

CLOSED = N_(
    "⚠️ The customer's 24-hour {channel} window is closed (their last message: {last}). "
    "{channel} lets only an approved template through now: they get the template "
    "“{template}”, and your reply arrives as soon as they tap its button."
)
NEVER = N_("never")


def window_note(closed: ClosedWindow, settings: Settings, lang: str) -> str:
    """The warning, naming the template that goes instead of the free-form reply."""
    if closed.last_inbound_at is None:
        last = translate(NEVER, lang)
    else:
        last = view.when(closed.last_inbound_at, settings.operators_tz)
    channel = closed.channel.capitalize().replace("Whatsapp", "WhatsApp")
    template = settings.whatsapp_template_reply
    return translate(CLOSED, lang, channel=channel, last=last, template=template)
