"""How an ``Outgoing`` goes out: free-form inside the service window, a template outside it.

Before a free-form send the chat's window is decided: the time the channel saw the
customer last write (in memory) first, else the bootstrap's lookup in storage. A
closed window sends the template of the message's purpose (invitation, reminder, an
operator's reply, a delivery notice) whose quick reply reopens the row; a purpose
with no template is ``Rejected`` as 131047. Meta answering 131047 to a free-form send (our clock or
memory was wrong) takes the same way.
"""

from __future__ import annotations

import mimetypes
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from bot.channels.port import Outgoing, Rejected
from bot.channels.whatsapp import outbound
from bot.channels.whatsapp.client import GraphClient, sent_id
from bot.channels.whatsapp.errors import GraphError, neutral_error, window_closed
from bot.channels.whatsapp.window import ChatWindow, WindowLookup, later
from bot.i18n import translate
from bot.settings import Settings
from flows.menu import LIST_BUTTON

REMEMBERED_CHATS = 100_000  # chats whose last inbound time is kept in memory


class WindowClosed(Rejected):
    """No free-form message may go to the chat, and its purpose has no template."""


class Sender:
    """Sends through ``client``; knows each chat's window and locale as far as it can."""

    def __init__(
        self, settings: Settings, client: GraphClient, clock: Callable[[], datetime]
    ) -> None:
        self.settings, self.client, self.clock = settings, client, clock
        self.chat_window: WindowLookup | None = None  # set by the bootstrap
        self._inbound: OrderedDict[str, datetime] = OrderedDict()
        self._locales: dict[str, str] = {}
        self.templates = {
            "invitation": settings.whatsapp_template_survey,
            "reminder": settings.whatsapp_template_reminder,
            "operator": settings.whatsapp_template_reply,
            "resolution": settings.whatsapp_template_reply,
            "notice": settings.whatsapp_template_notice,
        }

    def saw_inbound(self, chat_id: str, at: datetime) -> None:
        """The customer wrote at ``at``: the window is open for 24 hours from then."""
        known = later(self._inbound.pop(chat_id, None), at)
        assert known is not None
        self._inbound[chat_id] = known
        while len(self._inbound) > REMEMBERED_CHATS:
            popped, _ = self._inbound.popitem(last=False)
            self._locales.pop(popped, None)

    async def window(self, chat_id: str) -> ChatWindow:
        """The chat's window: memory when it is open and the locale known, else storage."""
        last, locale = self._inbound.get(chat_id), self._locales.get(chat_id)
        known = ChatWindow(last, locale or self.settings.default_locale)
        if (known.is_open(self.clock()) and locale) or self.chat_window is None:
            return known
        stored = await self.chat_window(chat_id)
        self._locales[chat_id] = stored.locale
        found = later(last, stored.last_inbound_at)
        if found is not None:
            self.saw_inbound(chat_id, found)
        return ChatWindow(found, stored.locale)

    async def send(self, message: Outgoing) -> str:
        if message.edit_message_id is not None:
            raise Rejected("WhatsApp cannot change a sent message's buttons")
        window = await self.window(message.chat_id)
        if not window.is_open(self.clock()):
            return await self._template(message, window, "the 24-hour window is closed")
        try:
            return await self._free_form(message, window.locale)
        except GraphError as exc:
            if not window_closed(exc):
                raise neutral_error(exc) from exc
            return await self._template(message, window, f"Meta answered {exc}")

    async def _free_form(self, message: Outgoing, locale: str) -> str:
        label = translate(LIST_BUTTON, locale)
        if message.photo_path or message.document_path:
            return await self._with_file(message, label)
        wamid = "?"
        for part in outbound.free_form(message, label):
            wamid = await self.post(part)
        return wamid

    async def _with_file(self, message: Outgoing, label: str) -> str:
        """The file (its caption the text, when short and without buttons), then the rest."""
        kind = "image" if message.photo_path else "document"
        path = message.photo_path or message.document_path or ""
        name = (message.document_name or Path(path).name) if kind == "document" else None
        mime = mimetypes.guess_type(name or path)[0]
        media_id = await self._call_upload(path, mime)
        buttons = outbound.buttons_of(message)
        fits = len(message.text) <= outbound.MAX_CAPTION and not buttons
        caption = message.text if fits else ""
        wamid = await self.post(outbound.media(message.chat_id, kind, media_id, caption, name))
        if fits or not (message.text or buttons):
            return wamid
        for part in outbound.free_form(message, label):
            wamid = await self.post(part)
        return wamid

    async def _call_upload(self, path: str, mime: str | None) -> str:
        try:
            return await self.client.upload(path, mime)
        except GraphError as exc:
            raise neutral_error(exc) from exc

    async def _template(self, message: Outgoing, window: ChatWindow, why: str) -> str:
        name = self.templates.get(message.purpose)
        if name is None:
            seen = window.last_inbound_at
            last = f"{seen:%Y-%m-%d %H:%M} UTC" if seen else "never"
            raise WindowClosed(
                f"131047: {why} (the customer last wrote: {last});"
                f" no template for a {message.purpose!r} message"
            )
        languages = self.settings.template_languages
        language = languages.get(window.locale) or languages[self.settings.default_locale]
        body = outbound.template(message.chat_id, name, language, message.row_id)
        try:
            return sent_id(await self.client.send(body))
        except GraphError as exc:
            raise neutral_error(exc) from exc

    async def post(self, body: outbound.Message) -> str:
        """One free-form message; a ``GraphError`` is left to ``send`` (131047 matters)."""
        return sent_id(await self.client.send(body))
