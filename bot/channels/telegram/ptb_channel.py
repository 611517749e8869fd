"""The Telegram channel on python-telegram-bot 22: its ``Application`` and ``Bot``.

ptb's ``Updater`` is not used: it confirms updates when it fetches them.
``TelegramChannel`` polls with the application's bot, keeps per-chat order and
runs each update through ``Application.process_update`` (its handlers, its error
handling); a ``TypeHandler`` hands every update to the engine. ptb's default HTTP
pool has one connection: ``pool_size`` raises it, or sends would queue on it. Not
far: httpcore checks every pooled connection on each request, so a large pool costs
CPU per send (benchmarks/throughput.py, 1,000 updates: 163 updates/s with 64
connections, 198 with 16, the outbox sender's concurrency).

``Bot.get_updates`` parses the whole batch at once: one update it cannot read
failed every fetch, and (confirmed by offset only) came back for ever, so no other
update was handled (issue 14). Its ``getUpdates`` request keeps the last answer
(``KeepsAnswer``, an ``HTTPXRequest``: ptb's own extension point), and a batch that
cannot be read is handed over as JSON, for ``UpdatePump`` to read one by one.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import warnings
from collections.abc import Awaitable, Sequence
from contextvars import ContextVar
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from telegram import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram import error as tg
from telegram.ext import Application, ContextTypes, TypeHandler
from telegram.request import HTTPXRequest, RequestData
from telegram.warnings import PTBDeprecationWarning

from bot.channels.port import (
    Forbidden,
    Outgoing,
    Rejected,
    RetryAfter,
    SendError,
    Transient,
    Unconfirmed,
    UpdateHandler,
)
from bot.channels.telegram.base import TelegramChannel
from bot.channels.telegram.common import (
    ALLOWED_UPDATES,
    MAX_CAPTION,
    MenuScope,
    check_buttons,
    contact_label,
    inline_keyboard,
    numeric_id,
    remote_id,
)
from bot.settings import Settings

# Opt in to ptb's coming time periods as ``timedelta``: without it ptb 22.2+ warns on
# every 429 (RetryAfter reads its own deprecated int property). We accept both.
os.environ.setdefault("PTB_TIMEDELTA", "true")

log = logging.getLogger("postsale.telegram")
Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None
# Requests that reached Telegram for certain: nothing was sent, or it was refused.
_UNSENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# The answers of the send in progress (per task): ptb reads a message from the answer
# after the request, and an answer it cannot read (a bad ``date``) must still say "sent".
_ANSWERS: ContextVar[list[object] | None] = ContextVar("ptb_answers", default=None)


class AnswerKeepingRequest(HTTPXRequest):
    """ptb's HTTP request; keeps each successful answer for the send that made it."""

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        code, payload = await super().do_request(*args, **kwargs)
        answers = _ANSWERS.get()
        if answers is not None and 200 <= code < 300:
            with contextlib.suppress(ValueError):
                answer = json.loads(payload)
                if isinstance(answer, dict) and answer.get("ok") is True:
                    answers.append(answer.get("result"))
        return code, payload


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


def markup(message: Outgoing) -> Markup:
    """Inline buttons, else the share-my-phone keyboard, else a keyboard removal."""
    if message.buttons:
        return InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(b.text, callback_data=b.data) for b in row]
                for row in message.buttons
            ]
        )
    if message.request_contact:
        button = KeyboardButton(contact_label(message), request_contact=True)
        return ReplyKeyboardMarkup([[button]], resize_keyboard=True, one_time_keyboard=True)
    if message.remove_keyboard:
        return ReplyKeyboardRemove()
    return None


class KeepsAnswer(HTTPXRequest):
    """ptb's HTTP request for ``getUpdates``, keeping the last answer's body."""

    def __init__(self) -> None:
        super().__init__(connection_pool_size=1)  # ptb's own default for getUpdates
        self.last: bytes = b""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = HTTPXRequest.DEFAULT_NONE,
        write_timeout: Any = HTTPXRequest.DEFAULT_NONE,
        connect_timeout: Any = HTTPXRequest.DEFAULT_NONE,
        pool_timeout: Any = HTTPXRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        self.last = b""
        status, body = await super().do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        self.last = body
        return status, body

    def last_updates(self) -> list[dict[str, Any]]:
        """The updates of the last answer as JSON objects (those with an id)."""
        result = self.parse_json_payload(self.last).get("result")
        found = result if isinstance(result, list) else []
        return [u for u in found if isinstance(u, dict) and isinstance(u.get("update_id"), int)]


async def _sent_id(request: Awaitable[Message]) -> str:
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


class PtbChannel(TelegramChannel):
    """``Channel`` on python-telegram-bot: an ``Application`` on the configured API server."""

    def __init__(
        self,
        settings: Settings,
        handler: UpdateHandler,
        *,
        pool_size: int = 16,
        send_timeout: float = 5.0,
        **options: Any,
    ) -> None:
        super().__init__(settings, handler, **options)
        url = settings.telegram_api_url
        self._updates_request = KeepsAnswer()
        request = AnswerKeepingRequest(
            connection_pool_size=pool_size,
            pool_timeout=30.0,
            read_timeout=send_timeout,
            write_timeout=send_timeout,
            connect_timeout=send_timeout,
        )
        self.application = (
            Application.builder()
            .token(settings.bot_token)
            .base_url(f"{url}/bot")
            .base_file_url(f"{url}/file/bot")
            .request(request)
            .get_updates_request(self._updates_request)
            .updater(None)
            .build()
        )
        self.application.add_handler(TypeHandler(Update, self._callback))
        self._failures: dict[int, BaseException] = {}

    @property
    def bot(self) -> Any:
        return self.application.bot

    async def _callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            await self._on_update(update)
        except Exception as exc:
            # ptb hands handler errors to its error handlers and carries on; keep it
            # so that ``_process`` can report the failure (and the update is retried).
            self._failures[update.update_id] = exc
            raise

    async def _open(self) -> str:
        try:
            await self.application.initialize()  # getMe
        except tg.InvalidToken:  # its message quotes the token: not repeated here
            raise self.token_rejected() from None
        except tg.BadRequest as exc:  # a NetworkError subclass in ptb
            raise self.api_refused(str(exc)) from None
        except (tg.NetworkError, OSError, TimeoutError) as exc:
            raise self.api_unreachable(str(exc) or type(exc).__name__) from None
        except tg.TelegramError as exc:
            raise self.api_refused(str(exc)) from None
        return self.bot.username or ""

    async def probe(self) -> None:
        """``getMe``: whether the Bot API answers, before a send of unknown outcome is retried."""
        try:
            await self.bot.get_me()
        except (tg.TelegramError, OSError, TimeoutError) as exc:
            raise neutral_error(exc) from exc

    async def _fetch(self, offset: int | None, wait: float, limit: int) -> Sequence[Any]:
        try:
            updates: Sequence[Any] = await self.bot.get_updates(
                offset=offset,
                limit=limit,
                timeout=int(wait),
                allowed_updates=ALLOWED_UPDATES,
            )
        except tg.TelegramError:
            raise  # the request failed: the poller backs off
        except Exception:
            # Received, but ptb could not read the batch: hand it over as JSON.
            return self._updates_request.last_updates()
        return updates

    def _parse(self, data: dict[str, Any]) -> Any:
        update = Update.de_json(data, self.bot)
        if update is None:
            raise ValueError("not an update")
        return update

    def _dump(self, update: Any) -> dict[str, Any]:
        dumped: dict[str, Any] = update.to_dict()
        return dumped

    async def _process(self, update: Any) -> None:
        if update.message is None and update.edited_message is None and not update.callback_query:
            return
        await self.application.process_update(update)
        failure = self._failures.pop(update.update_id, None)
        if failure is not None:
            raise failure

    async def _set_webhook(self, url: str, secret: str, allowed: list[str]) -> None:
        await self.bot.set_webhook(url, secret_token=secret or None, allowed_updates=allowed)

    async def _delete_webhook(self) -> None:
        await self.bot.delete_webhook(drop_pending_updates=False)

    async def _set_menu(self, scope: MenuScope) -> None:
        commands = [BotCommand(c, d) for c, d in scope.commands]
        where = (
            BotCommandScopeChat(numeric_id(scope.chat_id))
            if scope.chat_id
            else BotCommandScopeDefault()
        )
        await self.bot.set_my_commands(commands, scope=where, language_code=scope.language_code)

    async def _close(self) -> None:
        if self.application._initialized:  # noqa: SLF001 - no public flag in ptb 22
            await self.application.shutdown()

    # -- sending -----------------------------------------------------------------------

    async def send(self, message: Outgoing) -> str:
        """Send one message; ptb's errors become the neutral ``SendError``s."""
        check_buttons(message)
        try:
            return await self._send(message)
        except (tg.TelegramError, OSError, TimeoutError) as exc:
            raise neutral_error(exc) from exc

    async def _send(self, message: Outgoing) -> str:
        """The sent message's id."""
        chat, keyboard = message.chat_id, markup(message)
        if message.edit_message_id is not None:
            edited = await self.bot.edit_message_reply_markup(
                chat,
                int(message.edit_message_id),
                reply_markup=InlineKeyboardMarkup.de_json(inline_keyboard(message), self.bot),
            )
            assert isinstance(edited, Message)  # a chat's message, not an inline one
            return str(edited.message_id)
        if message.photo_path or message.document_path:
            caption = message.text if len(message.text) <= MAX_CAPTION else None
            media_keyboard = keyboard if caption is not None else None
            if message.photo_path:
                sent = await _sent_id(
                    self.bot.send_photo(
                        chat, Path(message.photo_path), caption=caption, reply_markup=media_keyboard
                    )
                )
            else:
                assert message.document_path is not None
                sent = await _sent_id(
                    self.bot.send_document(
                        chat,
                        Path(message.document_path),
                        caption=caption,
                        filename=message.document_name,
                        reply_markup=media_keyboard,
                    )
                )
            if caption is not None or not message.text:
                return sent
        return await _sent_id(self.bot.send_message(chat, message.text, reply_markup=keyboard))

    async def answer_callback(self, callback_id: str, text: str | None = None) -> None:
        try:
            await self.bot.answer_callback_query(callback_id, text=text)
        except (tg.TelegramError, OSError, TimeoutError) as exc:
            raise neutral_error(exc) from exc
