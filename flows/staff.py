"""What the bot says to customers and strangers about the support team's side.

The texts are gettext message ids like every flow's (translated in ``bot/locales``);
the operators' own screens are built in ``bot.operators``.
"""

from __future__ import annotations

from flows.replies import N_

REFUSAL = N_(
    "Sorry, that command is only for our support team. If you need help, send /help or /problem."
)
ADMINS_ONLY = N_("Sorry, only admins may do that.")
REPLY_HEADER = N_("Message from our team about ticket #{n}:")
EXPORT_CAPTION = N_("Your data, as a JSON file.")
FORGET_DONE = N_(
    "What was done: your name, phone number and e-mail were erased, {chats} chat link(s) "
    "were removed and the text of {messages} message(s) was deleted. Kept without your "
    "name, so that our statistics stay correct: {answers} survey answer(s) and "
    "{tickets} ticket(s)."
)

__all__ = ["ADMINS_ONLY", "EXPORT_CAPTION", "FORGET_DONE", "REFUSAL", "REPLY_HEADER"]
