"""What the bot says to customers and strangers about the support team's side.

The texts are gettext message ids like every flow's (translated in ``bot/locales``);
the operators' own screens are built in ``bot.operators``.
"""

from __future__ import annotations

from flows.replies import N_, Plural, Say, say

REFUSAL = N_(
    "Sorry, that command is only for our support team. If you need help, send /help or /problem."
)
ADMINS_ONLY = N_("Sorry, only admins may do that.")
REPLY_HEADER = N_("Message from our team about ticket #{n}:")
EXPORT_CAPTION = N_("Your data, as a JSON file.")
FORGET_DONE = N_(
    "What was done: your name, phone number and e-mail were erased. Removed: {chats}. "
    "Deleted: the text of {messages}. Kept without your name, so that our statistics "
    "stay correct: {answers} and {tickets}."
)


def forget_report(chats: int, messages: int, answers: int, tickets: int) -> Say:
    """``FORGET_DONE`` with each count in the plural form its language gives it."""
    return say(
        FORGET_DONE,
        chats=Plural("{n} chat link", "{n} chat links", chats),
        messages=Plural("{n} message", "{n} messages", messages),
        answers=Plural("{n} survey answer", "{n} survey answers", answers),
        tickets=Plural("{n} ticket", "{n} tickets", tickets),
    )


__all__ = [
    "ADMINS_ONLY",
    "EXPORT_CAPTION",
    "FORGET_DONE",
    "REFUSAL",
    "REPLY_HEADER",
    "forget_report",
]
