"""Every channel behind one fixture: a contract test runs once per channel."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.contract.harnesses import HARNESSES, Harness


@pytest.fixture(params=sorted(HARNESSES))
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    running = HARNESSES[request.param]()
    await running.start()
    try:
        yield running
    finally:
        await running.close()
