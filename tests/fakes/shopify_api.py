"""A fake Shopify Admin API on loopback: ``GET /admin/api/2025-01/orders/{id}.json``.

It answers ``{"order": {...}}`` (the REST Admin API's shape) for the orders it holds,
404 ``{"errors": "Not Found"}`` for others and 401 ``{"errors": "[API] Invalid API key
or access token ..."}`` to a wrong ``X-Shopify-Access-Token``, as Shopify does.
``fail_next(502, 503, ...)`` scripts the next answers' statuses (an outage);
``requests`` counts what it was asked.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.stores.shopify import API_VERSION

ACCESS_TOKEN = "shpat_fake_access_token_0123456789"


class FakeShopifyAdmin:
    """Orders by id; ``url`` after ``start()`` is what SHOPIFY_API_URL is set to."""

    def __init__(self) -> None:
        self.orders: dict[int, dict[str, Any]] = {}
        self.failures: list[int] = []
        self.requests = 0
        self._server: TestServer | None = None

    def fail_next(self, *statuses: int) -> None:
        self.failures.extend(statuses)

    async def _order(self, request: web.Request) -> web.Response:
        self.requests += 1
        if request.headers.get("X-Shopify-Access-Token") != ACCESS_TOKEN:
            message = "[API] Invalid API key or access token (unrecognized login or wrong password)"
            return web.json_response({"errors": message}, status=401)
        if self.failures:
            status = self.failures.pop(0)
            return web.json_response({"errors": "Internal Server Error"}, status=status)
        order = self.orders.get(int(request.match_info["id"]))
        if order is None:
            return web.json_response({"errors": "Not Found"}, status=404)
        return web.json_response({"order": order})

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get(f"/admin/api/{API_VERSION}/orders/{{id:\\d+}}.json", self._order)
        self._server = TestServer(app, host="127.0.0.1", port=0)
        await self._server.start_server()
        return f"http://127.0.0.1:{self._server.port}"

    async def close(self) -> None:
        if self._server is not None:
            await self._server.close()
