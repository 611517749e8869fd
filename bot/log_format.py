"""How ``postsale`` writes its log: text lines, or with ``LOG_FORMAT=json`` one JSON
object a line for a log collector.

A JSON line has ``time`` (UTC, ISO 8601), ``level``, ``logger`` and ``message``, the
traceback as ``exception`` when there is one, and, when the line is about an update
(logged while it is handled, ``bot.metrics.current_update``), ``channel``,
``update_id`` and ``chat``; a line that says how long an update took has
``duration_ms``. Secrets are masked as in text lines (``bot.log_secrets``: the filter
rewrites the record before any formatter sees it), and every string field of a JSON
line is masked once more, since ``extra`` fields never pass through the filter.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bot.log_secrets import RedactSecrets, hide_secrets
from bot.metrics import current_update
from bot.settings import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# ``extra`` fields a line may carry, written as they are.
EXTRA_FIELDS = ("duration_ms",)


class JsonFormatter(logging.Formatter):
    """One JSON object per record, its strings passed through ``redact``."""

    def __init__(self, redact: Callable[[str], str] = lambda text: text) -> None:
        super().__init__()
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        update = current_update.get()
        if update is not None:
            line.update(channel=update.channel, update_id=update.update_id, chat=update.chat)
        for name in EXTRA_FIELDS:
            if name in record.__dict__:
                line[name] = record.__dict__[name]
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        clean = {k: self.redact(v) if isinstance(v, str) else v for k, v in line.items()}
        return json.dumps(clean, ensure_ascii=False, default=str)


def configure_logging(settings: Settings) -> RedactSecrets:
    """The root logger at ``LOG_LEVEL`` in ``LOG_FORMAT``, secrets hidden, the
    libraries' per-event lines quiet above DEBUG; returns the secrets' filter."""
    logging.basicConfig(level=settings.log_level.upper(), format=TEXT_FORMAT)
    quiet_chatty_loggers(logging.getLogger().level)
    redactor = hide_secrets(settings)
    if settings.log_format == "json":
        for handler in logging.getLogger().handlers:
            handler.setFormatter(JsonFormatter(redactor.redact))
    return redactor


# A line per state change, per migration step, per handled update (aiogram) and per
# Bot API request (httpx, under python-telegram-bot): debug detail, not news.
CHATTY_LOGGERS = ("transitions", "alembic", "aiogram.event", "httpx")


def quiet_chatty_loggers(level: int) -> None:
    """Above DEBUG, the libraries' per-event lines are raised to WARNING."""
    if level > logging.DEBUG:
        for name in CHATTY_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
