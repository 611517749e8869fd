"""The Telegram channel on aiogram 3: its ``Bot`` for HTTP, its types for updates.

aiogram's own polling is not used: it confirms updates when it fetches them and
runs one user's updates concurrently; ``TelegramChannel`` polls with the same
``Bot`` and keeps per-chat order. Its ``Dispatcher`` is not used either: the engine
routes every update itself, so the dispatcher would only pass each one through its
routers and middlewares (FSM context, user context, error logging) to a single
catch-all handler, about a tenth of the bot's time per update (py-spy on
benchmarks/throughput.py). Errors reach ``TelegramChannel``, which retries and logs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    AiogramError,
    ClientDecodeError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    FSInputFile,
    InlineKeyboardMarkup,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from aiohttp import ClientConnectorError, ConnectionTimeoutError

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
from bot.channels.telegram import profile
from bot.channels.telegram.aiogram_methods import (
    AnswerCallback,
    EditReplyMarkupForId,
    GetRawUpdates,
    JsonBodySession,
    SendDocumentForId,
    SendMessageForId,
    SendPhotoForId,
)
from bot.channels.telegram.base import TelegramChannel
from bot.channels.telegram.common import (
    ALLOWED_UPDATES,
    MAX_CAPTION,
    MenuScope,
    check_buttons,
    inline_keyboard,
    numeric_id,
    remote_id,
    reply_markup,
)
from bot.settings import Settings

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None


def neutral_error(exc: Exception) -> SendError:
    """The neutral error for an aiogram exception (what the outbox sender acts on)."""
    if isinstance(exc, TelegramRetryAfter):
        return RetryAfter(float(exc.retry_after))
    if isinstance(exc, TelegramForbiddenError):
        return Forbidden(exc.message)
    if isinstance(exc, TelegramEntityTooLarge | TelegramBadRequest | TelegramMigrateToChat):
        return Rejected(str(exc.message))
    if isinstance(exc, TelegramServerError):
        return Transient(exc.message)
    if isinstance(exc, TelegramNetworkError):
        # Only a connection never made is known not to have reached Telegram.
        unsent = isinstance(exc.__cause__, ClientConnectorError | ConnectionTimeoutError)
        return Transient(exc.message) if unsent else Unconfirmed(exc.message)
    if isinstance(exc, ClientDecodeError):  # a success status with an unreadable body
        return Unconfirmed(f"unreadable answer: {exc.message}")
    if isinstance(exc, FileNotFoundError):  # the attachment is gone: retrying cannot help
        return Rejected(f"attachment not found: {exc.filename}")
    if isinstance(exc, OSError | TimeoutError | AiogramError):
        return Transient(str(exc) or type(exc).__name__)
    return Rejected(f"{type(exc).__name__}: {exc}")


def markup(message: Outgoing) -> Markup:
    """The keyboard as aiogram's objects (for ``sendPhoto`` and ``sendDocument``)."""
    shape = reply_markup(message)
    if shape is None:
        return None
    if "inline_keyboard" in shape:
        return InlineKeyboardMarkup.model_validate(shape)
    if "keyboard" in shape:
        return ReplyKeyboardMarkup.model_validate(shape)
    return ReplyKeyboardRemove.model_validate(shape)


class AiogramChannel(TelegramChannel):
    """``Channel`` on aiogram: ``Bot`` on the configured API server."""

    def __init__(
        self,
        settings: Settings,
        handler: UpdateHandler,
        *,
        pool_size: int = 100,
        send_timeout: float = 60.0,
        **options: Any,
    ) -> None:
        super().__init__(settings, handler, **options)
        api = TelegramAPIServer.from_base(settings.telegram_api_url)
        session = JsonBodySession(api=api, limit=pool_size, timeout=send_timeout)
        self.bot = Bot(settings.bot_token, session=session)

    async def _open(self) -> str:
        try:
            me = await self.bot.get_me()
        except TelegramUnauthorizedError:
            raise profile.token_rejected(self.settings.telegram_api_url) from None
        except (TelegramNetworkError, OSError, TimeoutError) as exc:
            raise profile.api_unreachable(
                self.settings.telegram_api_url, str(exc) or type(exc).__name__
            ) from None
        except AiogramError as exc:
            raise profile.api_refused(self.settings.telegram_api_url, str(exc)) from None
        return me.username or ""

    async def probe(self) -> None:
        """``getMe``: whether the Bot API answers, before a send of unknown outcome is retried."""
        try:
            await self.bot.get_me()
        except (AiogramError, OSError, TimeoutError) as exc:
            raise neutral_error(exc) from exc

    async def _fetch(self, offset: int | None, wait: float, limit: int) -> Sequence[Any]:
        method = GetRawUpdates(
            offset=offset, limit=limit, timeout=int(wait), allowed_updates=ALLOWED_UPDATES
        )
        updates: list[dict[str, Any]] = await self.bot(method, request_timeout=int(wait) + 10)
        return updates

    def _parse(self, data: dict[str, Any]) -> Any:
        return Update.model_validate(data, context={"bot": self.bot})

    def _dump(self, update: Any) -> dict[str, Any]:
        dumped: dict[str, Any] = update.model_dump(mode="json", by_alias=True, exclude_none=True)
        return dumped

    async def _process(self, update: Any) -> None:
        if update.message is None and update.edited_message is None and not update.callback_query:
            return  # kinds we ignore: not even aiogram's "unknown update type" warning
        await self._on_update(update)

    async def _set_webhook(self, url: str, secret: str, allowed: list[str]) -> None:
        await self.bot.set_webhook(url, secret_token=secret or None, allowed_updates=allowed)

    async def _delete_webhook(self) -> None:
        await self.bot.delete_webhook(drop_pending_updates=False)

    async def _set_menu(self, scope: MenuScope) -> None:
        commands = [BotCommand(command=c, description=d) for c, d in scope.commands]
        where = BotCommandScopeChat(chat_id=numeric_id(scope.chat_id)) if scope.chat_id else None
        await self.bot.set_my_commands(
            commands,
            scope=where or BotCommandScopeDefault(),
            language_code=scope.language_code,
        )

    async def _close(self) -> None:
        await self.bot.session.close()

    # -- sending -----------------------------------------------------------------------

    async def send(self, message: Outgoing) -> str:
        """Send one message; aiogram's errors become the neutral ``SendError``s."""
        check_buttons(message)
        try:
            return await self._send(message)
        except (AiogramError, OSError, TimeoutError) as exc:
            raise neutral_error(exc) from exc

    async def _send(self, message: Outgoing) -> str:
        """The sent message's id."""
        chat = message.chat_id
        if message.edit_message_id is not None:
            edit = EditReplyMarkupForId(
                chat_id=chat,
                message_id=int(message.edit_message_id),
                reply_markup=inline_keyboard(message),
            )
            edited = await self.bot(edit)
            return message.edit_message_id if isinstance(edited, bool) else remote_id(edited)
        if message.photo_path or message.document_path:
            keyboard = markup(message)
            caption = message.text if len(message.text) <= MAX_CAPTION else None
            media_keyboard = keyboard if caption is not None else None
            upload: SendPhotoForId | SendDocumentForId
            if message.photo_path:
                upload = SendPhotoForId(
                    chat_id=chat,
                    photo=FSInputFile(message.photo_path),
                    caption=caption,
                    reply_markup=media_keyboard,
                )
            else:
                assert message.document_path is not None
                document = FSInputFile(message.document_path, filename=message.document_name)
                upload = SendDocumentForId(
                    chat_id=chat, document=document, caption=caption, reply_markup=media_keyboard
                )
            sent = cast(dict[str, Any], await self.bot(upload))
            if caption is not None or not message.text:
                return remote_id(sent)
        call = SendMessageForId(chat_id=chat, text=message.text, reply_markup=reply_markup(message))
        return remote_id(cast(dict[str, Any], await self.bot(call)))

    async def answer_callback(self, callback_id: str, text: str | None = None) -> None:
        try:
            await self.bot(AnswerCallback(callback_query_id=callback_id, text=text))
        except (AiogramError, OSError, TimeoutError) as exc:
            raise neutral_error(exc) from exc
