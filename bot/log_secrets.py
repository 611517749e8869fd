"""Secrets never reach a log: the bot and WhatsApp tokens, the HTTP and app secrets, the
database password.

The libraries log them freely at some level: python-telegram-bot's ``InvalidToken``
quotes the token, and at DEBUG httpx logs every request URL, which holds it. A
filter on the root logger's handlers sees every record that is written, whichever
library made it, and rewrites the message (and any traceback) before formatting.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterable
from urllib.parse import quote

from sqlalchemy.engine import make_url

from bot.settings import Settings

MASK = "***"


def secrets_of(settings: Settings) -> list[str]:
    """The values to hide, longest first (so a token goes before its own tail)."""
    values = [settings.bot_token, settings.webhook_secret, settings.ingest_secret]
    values.append(settings.metrics_token)
    values += [
        settings.whatsapp_token,
        settings.whatsapp_app_secret,
        settings.whatsapp_verify_token,
        *settings.store_secrets(),
    ]
    # The token's secret half (after "bot id:") is the part that must not leak.
    values.append(settings.bot_token.partition(":")[2])
    values.append(make_url(settings.database_url).password or "")  # a checked URL
    found = {v for v in values if v}
    found |= {quote(v, safe="") for v in found}  # as it appears in a URL
    return sorted(found, key=len, reverse=True)


class RedactSecrets(logging.Filter):
    """Replaces each secret by ``***`` in a record's message, arguments and traceback."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            # The formatter would print the exception as it is: give it the clean text.
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def hide_secrets(settings: Settings, logger: logging.Logger | None = None) -> RedactSecrets:
    """Install the filter on every handler of ``logger`` (the root logger)."""
    redactor = RedactSecrets(secrets_of(settings))
    for handler in (logger or logging.getLogger()).handlers:
        handler.addFilter(redactor)
    return redactor
