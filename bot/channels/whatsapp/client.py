"""A small Graph API client for the Cloud API: send a message, upload a file, read the number.

Our own, on aiohttp: the bot needs three calls, and owning them keeps what a failure
means in our hands. Every request carries ``Authorization: Bearer <WHATSAPP_TOKEN>``;
the token is never put in a URL or a log line.

Failures: an error answer is a ``GraphError``; a connection never made is ``Transient``
(nothing reached Meta); a timeout or a dropped connection after the request was
written, or an unreadable success, is ``Unconfirmed`` (the message may have gone).
"""

from __future__ import annotations

import asyncio
import json
import mimetypes
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import ClientConnectorError, ClientError, ClientTimeout, ConnectionTimeoutError

from bot.channels.port import Rejected, Transient, Unconfirmed
from bot.channels.whatsapp.errors import read_error


class GraphClient:
    """``POST /{number}/messages``, ``POST /{number}/media`` and ``GET /{number}``."""

    def __init__(
        self,
        api_url: str,
        phone_number_id: str,
        token: str,
        *,
        timeout: float = 30.0,
        pool_size: int = 100,
    ) -> None:
        self.base = f"{api_url.rstrip('/')}/{phone_number_id}"
        self._headers = {"Authorization": f"Bearer {token}"}
        self._timeout = ClientTimeout(total=timeout)
        self._pool_size = pool_size
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        # Made on first use: a session belongs to the running event loop.
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size)
            self._session = aiohttp.ClientSession(
                connector=connector, headers=self._headers, timeout=self._timeout
            )
        return self._session

    async def send(self, message: dict[str, Any]) -> dict[str, Any]:
        """Post one message object; the answer's JSON (``messages[0].id`` is the wamid)."""
        return await self._call("POST", "/messages", json=message)

    async def upload(self, path: str, mime_type: str | None = None) -> str:
        """Upload a file for a later message; its media id."""
        file = Path(path)
        try:
            content = await asyncio.to_thread(file.read_bytes)
        except FileNotFoundError:
            raise Rejected(f"attachment not found: {path}") from None
        kind = mime_type or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        form = aiohttp.FormData()
        form.add_field("messaging_product", "whatsapp")
        form.add_field("type", kind)
        form.add_field("file", content, filename=file.name, content_type=kind)
        try:
            answer = await self._call("POST", "/media", data=form)
        except Unconfirmed as exc:  # an upload sends nothing to anyone: try it again
            raise Transient(str(exc)) from exc
        media_id = answer.get("id")
        if not isinstance(media_id, str) or not media_id:
            raise Transient(f"the upload of {file.name} was answered without a media id")
        return media_id

    async def number(self) -> dict[str, Any]:
        """The phone number's own object (checks the token and the number id)."""
        return await self._call("GET", "")

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            async with self._http().request(method, self.base + path, **kwargs) as response:
                status, text = response.status, await response.text()
        except (ClientConnectorError, ConnectionTimeoutError) as exc:
            raise Transient(f"{type(exc).__name__}: {exc}") from exc
        except (TimeoutError, ClientError) as exc:
            raise Unconfirmed(f"{type(exc).__name__}: {exc}".rstrip(": ")) from exc
        return _answer(status, text)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _answer(status: int, text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if 200 <= status < 300:
        if not isinstance(data, dict):
            raise Unconfirmed(f"unreadable answer with HTTP status {status}")
        return data
    raise read_error(status, data)


def sent_id(answer: dict[str, Any]) -> str:
    """The wamid in a send's answer. The answer said it went: without a readable id it
    is still sent (never resent), with "?" for the id."""
    messages = answer.get("messages")
    first = messages[0] if isinstance(messages, list) and messages else None
    found = first.get("id") if isinstance(first, dict) else None
    return found if isinstance(found, str) and found else "?"
