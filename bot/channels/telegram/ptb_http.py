"""python-telegram-bot's HTTP side: the request that keeps answers, and ptb's errors
mapped to the neutral ``SendError``s.

ptb parses an answer after the request and may fail on a field it cannot read:
``Bot.get_updates`` parses the whole batch at once, so one unreadable update failed
every fetch and came back for ever (issue 14); a sent message with a bad ``date`` read
as a failure although Telegram delivered it. ``AnswerKeepingRequest`` (an
``HTTPXRequest``, ptb's own extension point) keeps what came back so that neither is lost.
"""

from __future__ import annotations

import contextlib
import json
import logging
import warnings
from collections.abc import Awaitable
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

import httpx
from telegram import Message
from telegram import error as tg
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from bot.channels.port import Forbidden, Rejected, RetryAfter, SendError, Transient, Unconfirmed
from bot.channels.telegram.common import remote_id

log = logging.getLogger("postsale.telegram")

# Requests that reached Telegram for certain: nothing was sent, or it was refused.
_UNSENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# The answers of the send in progress (per task): ptb reads a message from the answer
# after the request, and an answer it cannot read (a bad ``date``) must still say "sent".
_ANSWERS: ContextVar[list[object] | None] = ContextVar("ptb_answers", default=None)


class AnswerKeepingRequest(HTTPXRequest):
    """ptb's HTTP request, keeping the last answer's body (``last_updates`` reads a
    ``getUpdates`` batch from it) and each successful result for the send that made it
    (``sent_id``)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.last: bytes = b""

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        self.last = b""
        code, payload = await super().do_request(*args, **kwargs)
        self.last = payload
        answers = _ANSWERS.get()
        if answers is not None and 200 <= code < 300:
            with contextlib.suppress(ValueError):
                answer = json.loads(payload)
                if isinstance(answer, dict) and answer.get("ok") is True:
                    answers.append(answer.get("result"))
        return code, payload

    def last_updates(self) -> list[dict[str, Any]]:
        """The updates of the last answer as JSON objects (those with an id)."""
        result = self.parse_json_payload(self.last).get("result")
        found = result if isinstance(result, list) else []
        return [u for u in found if isinstance(u, dict) and isinstance(u.get("update_id"), int)]


async def sent_id(request: Awaitable[Message]) -> str:
    """The id of the message ``request`` sends.

    Telegram said the message went (HTTP 200, ok: true) but ptb could not read it back
    (a field it cannot parse): it is sent all the same; resending would repeat it.
    """
    answers: list[object] = []
    token = _ANSWERS.set(answers)
    try:
        return str((await request).message_id)
    except (tg.TelegramError, OSError, TimeoutError):
        raise
    except Exception:
        if not answers:
            raise
        log.warning("a sent message's answer could not be read; it counts as sent")
        return remote_id(answers[-1])
    finally:
        _ANSWERS.reset(token)


def _seconds(exc: tg.RetryAfter) -> float:
    with warnings.catch_warnings():  # int vs timedelta: ptb 22.2's migration warning
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def neutral_error(exc: Exception) -> SendError:
    """The neutral error for a ptb exception (what the outbox sender acts on)."""
    if isinstance(exc, tg.RetryAfter):
        return RetryAfter(_seconds(exc))
    if isinstance(exc, tg.Forbidden):
        return Forbidden(exc.message)
    # BadRequest is a NetworkError subclass in ptb: test it first.
    if isinstance(exc, tg.BadRequest | tg.ChatMigrated | tg.InvalidToken | tg.Conflict):
        return Rejected(exc.message)
    if isinstance(exc, tg.NetworkError):  # TimedOut included
        cause = exc.__cause__
        # A status (5xx) came back, readable (no cause) or not (ptb's parse error), or
        # no connection was made: known not delivered.
        if cause is None or isinstance(cause, (*_UNSENT, tg.TelegramError)):
            return Transient(exc.message)
        return Unconfirmed(exc.message)
    if isinstance(exc, tg.TelegramError) and isinstance(exc.__cause__, ValueError):
        return Unconfirmed(f"unreadable answer: {exc.message}")  # ok status, not JSON
    if isinstance(exc, FileNotFoundError):  # the attachment is gone: retrying cannot help
        return Rejected(f"attachment not found: {exc.filename}")
    if isinstance(exc, tg.TelegramError | OSError | TimeoutError):
        return Transient(str(exc) or type(exc).__name__)
    return Rejected(f"{type(exc).__name__}: {exc}")


__all__ = ["AnswerKeepingRequest", "neutral_error", "sent_id"]
