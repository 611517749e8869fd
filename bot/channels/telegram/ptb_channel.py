"""The Telegram channel on python-telegram-bot 22: its ``Application`` and ``Bot``.

ptb's ``Updater`` is not used: it confirms updates when it fetches them.
``TelegramChannel`` polls with the application's bot, keeps per-chat order and
runs each update through ``Application.process_update`` (its handlers, its error
handling); a ``TypeHandler`` hands every update to the engine. ptb's default HTTP
pool has one connection: ``pool_size`` raises it, or sends would queue on it (not
far: httpcore checks every pooled connection on each request, so a large pool costs
CPU per send). Its requests keep their answers (``ptb_http``): a ``getUpdates`` batch
ptb cannot read is handed over as JSON, for ``UpdatePump`` to read one by one.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

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

from bot.channels.port import (
    Outgoing,
    UpdateHandler,
)
from bot.channels.telegram import profile
from bot.channels.telegram.base import TelegramChannel
from bot.channels.telegram.common import (
    ALLOWED_UPDATES,
    MAX_CAPTION,
    MenuScope,
    check_buttons,
    contact_label,
    inline_keyboard,
    numeric_id,
)
from bot.channels.telegram.ptb_http import AnswerKeepingRequest, neutral_error, sent_id
from bot.settings import Settings

# Opt in to ptb's coming time periods as ``timedelta``: without it ptb 22.2+ warns on
# every 429 (RetryAfter reads its own deprecated int property). We accept both.
os.environ.setdefault("PTB_TIMEDELTA", "true")

log = logging.getLogger("postsale.telegram")
Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None


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
        # ptb's own pool size for getUpdates
        self._updates_request = AnswerKeepingRequest(connection_pool_size=1)
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
            raise profile.token_rejected(self.settings.telegram_api_url) from None
        except tg.BadRequest as exc:  # a NetworkError subclass in ptb
            raise profile.api_refused(self.settings.telegram_api_url, str(exc)) from None
        except (tg.NetworkError, OSError, TimeoutError) as exc:
            raise profile.api_unreachable(
                self.settings.telegram_api_url, str(exc) or type(exc).__name__
            ) from None
        except tg.TelegramError as exc:
            raise profile.api_refused(self.settings.telegram_api_url, str(exc)) from None
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
                sent = await sent_id(
                    self.bot.send_photo(
                        chat, Path(message.photo_path), caption=caption, reply_markup=media_keyboard
                    )
                )
            else:
                assert message.document_path is not None
                sent = await sent_id(
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
        return await sent_id(self.bot.send_message(chat, message.text, reply_markup=keyboard))

    async def answer_callback(self, callback_id: str, text: str | None = None) -> None:
        try:
            await self.bot.answer_callback_query(callback_id, text=text)
        except (tg.TelegramError, OSError, TimeoutError) as exc:
            raise neutral_error(exc) from exc
