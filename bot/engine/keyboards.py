"""Closing a survey's inline keyboard once one of its buttons is pressed.

The pressed message keeps only the chosen button, marked, so the chat shows the
answer and the other scores can no longer be tapped. The edit is an outbox message
like any other (``edit_message_id``), sent in order after what came before it.
"""

from __future__ import annotations

from bot.channels.port import Incoming
from flows.events import ButtonIn
from flows.survey import survey_button
from storage.outbox_body import BodyButton, OutboxBody

CHOSEN = "✓ "


def chosen_keyboard(incoming: Incoming) -> OutboxBody | None:
    """The outbox body that leaves only the pressed survey button, or None."""
    event = incoming.event
    if not isinstance(event, ButtonIn) or incoming.message_id is None:
        return None
    if survey_button(event.data) is None:
        return None
    label = incoming.button_label
    if label is not None and label.startswith(CHOSEN):
        return None  # the keyboard was closed already; the flow answers the press
    buttons = ((BodyButton(CHOSEN + label, event.data),),) if label else ()
    return OutboxBody(edit_message_id=incoming.message_id, buttons=buttons)
