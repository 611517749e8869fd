"""Fake Nuvemshop and VTEX order APIs on loopback, answering in the platforms' shapes.

``FakeNuvemshop`` serves ``GET /v1/{store_id}/orders/{id}`` and wants Nuvemshop's
``Authentication: bearer <token>`` with a ``User-Agent`` (401 ``{"code": 401, "message":
"Unauthorized", ...}`` otherwise, as their API answers). ``FakeVtex`` serves ``GET
/api/oms/pvt/orders/{orderId}`` and wants ``X-VTEX-API-AppKey`` / ``X-VTEX-API-AppToken``
(401 otherwise). Both answer 404 for an order they do not hold, can fail the next N
requests with a 502 (``fail_next``) or all of them (``fail_always``), and keep every
request they saw, with its headers.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "stores"

NUVEMSHOP_TOKEN = "fake-nuvemshop-access-token-1"
VTEX_APP_KEY = "vtexappkey-acme-FAKE"
VTEX_APP_TOKEN = "fake-vtex-app-token-2"


def fixture(name: str) -> dict[str, Any]:
    """A fresh copy of ``tests/fixtures/stores/<name>.json``."""
    loaded: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text("utf-8"))
    return copy.deepcopy(loaded)


@dataclass(frozen=True)
class Seen:
    """One request to the fake: its path and headers."""

    path: str
    headers: Mapping[str, str]


class FakeOrderApi:
    """What both fakes share: the orders by id, scripted failures, the requests seen."""

    def __init__(self) -> None:
        self.orders: dict[str, dict[str, Any]] = {}
        self.requests: list[Seen] = []
        self.failures_left = 0
        self.fail_always = False
        self._server: TestServer | None = None

    def fail_next(self, times: int = 1) -> None:
        """The next ``times`` requests are answered 502, as a platform's edge does."""
        self.failures_left += times

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    async def start(self) -> str:
        """Serve; the base URL the connector's API setting points at."""
        app = web.Application()
        self.routes(app)
        self._server = TestServer(app, host="127.0.0.1", port=0)
        await self._server.start_server()
        return f"http://127.0.0.1:{self._server.port}"

    async def close(self) -> None:
        if self._server is not None:
            await self._server.close()

    def _failure(self, request: web.Request) -> web.Response | None:
        self.requests.append(Seen(request.path, dict(request.headers)))
        if self.fail_always or self.failures_left > 0:
            self.failures_left = max(0, self.failures_left - 1)
            return web.Response(status=502, text="<html><body>502 Bad Gateway</body></html>")
        return None

    def _order(self, order_id: str) -> web.Response:
        order = self.orders.get(order_id)
        if order is None:
            return web.json_response({"code": 404, "message": "Not Found"}, status=404)
        return web.json_response(order)


class FakeNuvemshop(FakeOrderApi):
    """The Nuvemshop API v1 for one store."""

    def __init__(self, store_id: str = "123456", token: str = NUVEMSHOP_TOKEN) -> None:
        super().__init__()
        self.store_id, self.token = store_id, token

    def put(self, order: dict[str, Any]) -> None:
        self.orders[str(order["id"])] = order

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/v1/{store}/orders/{id}", self._get)

    async def _get(self, request: web.Request) -> web.Response:
        failed = self._failure(request)
        if failed is not None:
            return failed
        authorized = request.headers.get("Authentication") == f"bearer {self.token}"
        if not authorized or request.match_info["store"] != self.store_id:
            return web.json_response(
                {"code": 401, "message": "Unauthorized", "description": "Invalid access token"},
                status=401,
            )
        if not request.headers.get("User-Agent"):
            return web.json_response(
                {"code": 400, "message": "Bad Request", "description": "User-Agent required"},
                status=400,
            )
        return self._order(request.match_info["id"])


class FakeVtex(FakeOrderApi):
    """The OMS of one VTEX account."""

    def __init__(self, app_key: str = VTEX_APP_KEY, app_token: str = VTEX_APP_TOKEN) -> None:
        super().__init__()
        self.app_key, self.app_token = app_key, app_token

    def put(self, order: dict[str, Any]) -> None:
        self.orders[str(order["orderId"])] = order

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/api/oms/pvt/orders/{id}", self._get)

    async def _get(self, request: web.Request) -> web.Response:
        failed = self._failure(request)
        if failed is not None:
            return failed
        headers = request.headers
        if (
            headers.get("X-VTEX-API-AppKey") != self.app_key
            or headers.get("X-VTEX-API-AppToken") != self.app_token
        ):
            return web.json_response(
                {"error": {"code": "1", "message": "Unauthorized"}}, status=401
            )
        return self._order(request.match_info["id"])
