"""The Bot API calls the aiogram adapter makes on its hot path, leaner than aiogram's own.

aiogram sends every method as a form, built by dumping the method's model with all
its optional fields, and reads every answer into its types. Per update, the bot
fetches updates it already holds, sends a reply (usually with an inline keyboard)
and answers button presses. Three methods here cut what that costs and leave the
rest to aiogram (its client session, its error checks and exceptions):

* ``GetRawUpdates``: updates left as JSON; ``UpdatePump`` parses only new ones.
* ``SendMessageForId``, ``EditReplyMarkupForId``, ``AnswerCallback``: the fields the
  bot sends, posted as one JSON body (``JsonBodySession``); the answers of
  ``sendMessage`` and ``editMessageReplyMarkup`` are kept as JSON, since only the
  message id is used.
* ``SendPhotoForId``, ``SendDocumentForId``: aiogram's own uploads, their answers kept
  as JSON too: an answer that says the message went must never fail to be read (a
  field aiogram cannot parse made a delivered message look failed, and resent).

Measured with py-spy on benchmarks/throughput.py: building and encoding a reply's
keyboard through aiogram's models and aiohttp's form encoding was about half of a
send's time.
"""

from __future__ import annotations

from typing import Any, cast

from aiogram import Bot, methods
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import ClientDecodeError, TelegramNetworkError, TelegramServerError
from aiogram.methods.base import Response, TelegramMethod, TelegramType
from aiohttp import ClientError, ClientTimeout

_JSON_HEADERS = {"Content-Type": "application/json"}


class GetRawUpdates(TelegramMethod[list[dict[str, Any]]]):
    """``getUpdates`` answered with the updates' JSON objects, left unparsed.

    Polling fetches the updates still in hand again (they are not confirmed until
    handled); only the new ones are parsed (``UpdatePump``).
    """

    __returning__ = list[dict[str, Any]]
    __api_method__ = "getUpdates"

    offset: int | None = None
    limit: int | None = None
    timeout: int | None = None
    allowed_updates: list[str] | None = None


class JsonBody:
    """A method whose fields are plain JSON values: ``JsonBodySession`` posts it as JSON."""


class SendMessageForId(JsonBody, TelegramMethod[dict[str, Any]]):
    """``sendMessage`` with a text and a ``reply_markup`` object in the Bot API's shape."""

    __returning__ = dict[str, Any]
    __api_method__ = "sendMessage"

    chat_id: int | str
    text: str
    reply_markup: dict[str, Any] | None = None


class AnswerCallback(JsonBody, TelegramMethod[bool]):
    """``answerCallbackQuery``: stops the client's spinner, with an optional notice."""

    __returning__ = bool
    __api_method__ = "answerCallbackQuery"

    callback_query_id: str
    text: str | None = None


class EditReplyMarkupForId(JsonBody, TelegramMethod[dict[str, Any] | bool]):
    """``editMessageReplyMarkup`` of a chat's message, its answer (the message) kept as JSON."""

    __returning__ = dict[str, Any] | bool
    __api_method__ = "editMessageReplyMarkup"

    chat_id: int | str
    message_id: int
    reply_markup: dict[str, Any] | None = None


class SendPhotoForId(methods.SendPhoto):
    """``sendPhoto`` (aiogram's form upload) answered with the message's JSON object."""

    __returning__ = dict[str, Any]


class SendDocumentForId(methods.SendDocument):
    """``sendDocument`` (aiogram's form upload) answered with the message's JSON object."""

    __returning__ = dict[str, Any]


class JsonBodySession(AiohttpSession):
    """aiogram's aiohttp session; ``JsonBody`` methods go as a JSON body, not a form.

    The Bot API takes either. The answer goes through aiogram's own checks, so its
    exceptions (``TelegramRetryAfter``, ``TelegramForbiddenError``, ...) are raised
    as for any other method; a timeout or a connection failure is a
    ``TelegramNetworkError``, as aiogram makes it.
    """

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 (aiogram's signature)
    ) -> TelegramType:
        if not isinstance(method, JsonBody):
            return await super().make_request(bot, method, timeout)
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        body = self.json_dumps(method.model_dump(exclude_none=True))
        limit = ClientTimeout(total=self.timeout if timeout is None else timeout)
        try:
            async with session.post(url, data=body, headers=_JSON_HEADERS, timeout=limit) as resp:
                content = await resp.text()
        except TimeoutError as exc:
            raise TelegramNetworkError(method=method, message="Request timeout error") from exc
        except ClientError as exc:
            message = f"{type(exc).__name__}: {exc}"
            raise TelegramNetworkError(method=method, message=message) from exc
        response = self.check_response(
            bot=bot, method=method, status_code=resp.status, content=content
        )
        return cast(TelegramType, response.result)

    def check_response(
        self, bot: Bot, method: TelegramMethod[TelegramType], status_code: int, content: str
    ) -> Response[TelegramType]:
        """aiogram's checks; an unreadable error page (a proxy's 502) is a server error.

        aiogram reads the body before the status, so any unreadable answer is a
        ``ClientDecodeError``; only one with a success status leaves the outcome unknown.
        """
        try:
            return super().check_response(
                bot=bot, method=method, status_code=status_code, content=content
            )
        except ClientDecodeError as exc:
            if 200 <= status_code < 300:
                raise
            message = f"unreadable answer with HTTP status {status_code}"
            raise TelegramServerError(method=method, message=message) from exc


# aiogram reads every answer through ``Response[<the method's result type>]``, and
# pydantic keeps such parametrized classes in a weak cache only: each garbage
# collection freed them, and the next call built the class again (12% of the bot's
# time under load, measured with py-spy on benchmarks/throughput.py). Holding them
# here keeps the cache warm.
_RESPONSE_TYPES = tuple(
    Response[method.__returning__]  # type: ignore[name-defined]
    for method in (
        methods.GetMe,
        GetRawUpdates,
        methods.SetWebhook,
        methods.DeleteWebhook,
        methods.SetMyCommands,
        SendMessageForId,
        EditReplyMarkupForId,
        SendPhotoForId,
        SendDocumentForId,
        AnswerCallback,
        methods.EditMessageText,
    )
)
