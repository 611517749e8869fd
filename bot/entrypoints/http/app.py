"""The bot's HTTP server: every channel's routes, order ingestion and a health check.

It knows no channel: a channel that receives over HTTP declares ``Route``s
(``bot.channels.port.Routes``), answered here through the neutral ``HttpRequest`` /
``HttpResponse`` -- the body read once, whole, since a channel may check a signature of
the raw bytes -- and checks its own requests. The server runs when some channel has
routes (Telegram's webhook, with ``WEBHOOK_URL``) or when ``INGEST_SECRET`` is set
(``POST /ingest/orders``) or a store connector, or always with ``HTTP_SERVER=on``
(for ``/metrics`` and ``/readyz`` in polling mode), on ``HTTP_HOST:HTTP_PORT``. Two
routes of the same method and path are a start-up error naming both owners.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from bot.app import Database
from bot.channels.port import HttpRequest, HttpResponse, Route
from bot.entrypoints.http import ingest, metrics, ready
from bot.entrypoints.http.admin import ROUTES as ADMIN_ROUTES
from bot.entrypoints.http.admin import AdminWiring, add_admin_routes
from bot.entrypoints.http.stores import StoreWebhooks, add_store_routes
from bot.entrypoints.http.wanted import http_server_wanted
from bot.metrics import Metrics
from bot.settings import Settings
from bot.startup import StartupError

log = logging.getLogger("postsale.http")

HEALTH_PATH = "/healthz"
# The server's own routes, which no channel may take.
OWN_ROUTES = {
    ("GET", HEALTH_PATH): "the health check",
    ("GET", ready.PATH): "the readiness check",
    ("GET", metrics.PATH): "the metrics",
    ("POST", ingest.PATH): "order ingestion",
    ("POST", "/connect/{platform}"): "the store connectors",
    **ADMIN_ROUTES,
}


def channel_routes(channels: Mapping[str, object]) -> list[Route]:
    """Every route the channels declare; a (method, path) declared twice is a
    ``StartupError`` naming both owners."""
    owners: dict[tuple[str, str], str] = dict(OWN_ROUTES)
    found: list[Route] = []
    for name, channel in channels.items():
        declared = getattr(channel, "routes", None)
        for route in declared() if callable(declared) else ():
            key = (route.method.upper(), route.path)
            if key in owners:
                raise StartupError(
                    f"the HTTP route {key[0]} {key[1]} is declared by both {owners[key]}"
                    f" and channel {name!r}: give one of them another path"
                )
            owners[key] = f"channel {name!r}"
            found.append(route)
    return found


def _serve(route: Route) -> Callable[[web.Request], Awaitable[web.Response]]:
    """An aiohttp handler answering through ``route`` (aiohttp's request in, its response out)."""

    async def handle(request: web.Request) -> web.Response:
        got = HttpRequest(
            method=request.method,
            path=request.path,
            query=request.query,
            headers=request.headers,
            body=await request.read(),
            remote=request.remote,
        )
        return _response(await route.handle(got))

    return handle


def _response(answer: HttpResponse) -> web.Response:
    if isinstance(answer.body, str):
        return web.Response(
            status=answer.status, text=answer.body, content_type=answer.content_type
        )
    return web.Response(status=answer.status, body=answer.body, content_type=answer.content_type)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def build_app(
    settings: Settings,
    db: Database,
    routes: list[Route],
    *,
    on_orders: Callable[[], None] | None = None,
    channels: Mapping[str, object] | None = None,
    counts: Metrics | None = None,
    admin: AdminWiring | None = None,
) -> web.Application:
    """The aiohttp application: /healthz, /readyz, /metrics, the channels' ``routes``,
    /ingest/orders, the store connectors' /connect/<platform> and, given its wiring,
    the web admin under /admin/."""
    app = web.Application(client_max_size=8 * 1024 * 1024)
    app.router.add_get(HEALTH_PATH, healthz)
    ready.add_ready_route(app, db, settings, channels or {})
    metrics.add_metrics_route(app, db, settings, counts or Metrics(), (channels or {}).keys())
    for route in routes:
        app.router.add_route(route.method.upper(), route.path, _serve(route))
    ingest.add_ingest_routes(
        app,
        db,
        settings,
        on_recorded=(lambda _result: on_orders()) if on_orders is not None else None,
    )
    add_store_routes(
        app,
        StoreWebhooks(
            db,
            settings,
            on_recorded=(lambda _result: on_orders()) if on_orders is not None else None,
        ),
    )
    if admin is not None:
        add_admin_routes(app, db, settings, admin)
    return app


async def start_http_server(
    settings: Settings,
    db: Database,
    channels: Mapping[str, object],
    *,
    on_orders: Callable[[], None] | None = None,
    counts: Metrics | None = None,
    admin: AdminWiring | None = None,
) -> web.AppRunner | None:
    """Serve on ``HTTP_HOST:HTTP_PORT`` when a channel's routes, ingestion or the web admin
    (``WEB_SECRET``) need it, or ``HTTP_SERVER=on``; else None (no port is opened)."""
    routes = channel_routes(channels)
    if not http_server_wanted(settings, channels):
        return None
    app = build_app(
        settings, db, routes, on_orders=on_orders, channels=channels, counts=counts, admin=admin
    )
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, settings.http_host, settings.http_port)
    await site.start()
    log.info("HTTP server on %s:%s", settings.http_host, settings.http_port)
    return runner
