"""The HTTP client connectors fetch orders with: JSON, a time limit, one retry.

A platform's API fails now and then (a 502 from its edge, a 429 under load); one
retry after a short pause absorbs most of it. What still fails is ``FetchFailed``:
the webhook is answered 503 and the platform delivers it again later, so nothing
is lost. A 4xx other than 429 will not mend by retrying: ``Unreadable``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from typing import Any

import aiohttp

from bot.stores.port import FetchFailed, Unreadable

log = logging.getLogger("postsale.stores")

TIMEOUT = aiohttp.ClientTimeout(total=10)


class StoreHttp:
    """One aiohttp session for every connector; ``close()`` when the server stops."""

    def __init__(self, *, retry_after: float = 0.5, tries: int = 2) -> None:
        self.retry_after = retry_after
        self.tries = tries
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=TIMEOUT)
        return self._session

    async def get_json(self, url: str, headers: Mapping[str, str]) -> Any:
        last = "no attempt"
        for attempt in range(self.tries):
            if attempt:
                await asyncio.sleep(self.retry_after)
            try:
                async with self._client().get(url, headers=dict(headers)) as response:
                    text = await response.text()
                    status = response.status
            except (aiohttp.ClientError, TimeoutError) as exc:
                last = f"{type(exc).__name__}: {exc}"
                continue
            if status == 429 or status >= 500:
                last = f"HTTP {status}"
                continue
            if status >= 400:
                raise Unreadable(f"the platform answered {status} for the order: {text[:200]}")
            try:
                return json.loads(text)
            except json.JSONDecodeError as exc:
                raise Unreadable(f"the platform's order is not JSON: {exc}") from None
        # The URL holds no secret (credentials go in headers), so it may be logged.
        log.warning("store API: GET %s failed %d times (%s)", url, self.tries, last)
        raise FetchFailed(f"GET {url}: {last}")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
