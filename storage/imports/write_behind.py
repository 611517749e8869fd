"""Writing one batch of an import while the next is read and checked."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any


class Pipeline:
    """Writes one batch in the background while the next one is read and checked.

    ``submit`` waits for the previous write first, so batches land in order; the reading
    loop calls ``breathe`` between chunks of rows so that the write moves on between
    statements.
    """

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None

    async def submit(self, write: Coroutine[Any, Any, None]) -> None:
        await self.drain()
        self._task = asyncio.ensure_future(write)

    async def breathe(self) -> None:
        """Let a pending write move on (called between chunks of rows)."""
        if self._task is not None:
            await asyncio.sleep(0)

    async def drain(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            await task
