"""Fixtures of the adapter tests: both Telegram libraries, and the fake Bot API server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.bot_api import FakeBotApi


@pytest.fixture(params=["aiogram", "ptb"])
def framework(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    server = FakeBotApi()
    server.url = await server.start()  # type: ignore[attr-defined]
    try:
        yield server
    finally:
        await server.close()
