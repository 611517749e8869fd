"""Whether ``postsale run`` serves HTTP at all, decided before the server's modules load.

A bot that only polls Telegram opens no port, and need not import the server, its
routes and the web admin's templates (jinja2) either: ~4 MB (benchmarks/memory.py).
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.settings import Settings


def _declares_routes(channel: object) -> bool:
    declared = getattr(channel, "routes", None)
    return callable(declared) and bool(declared())


def http_server_wanted(settings: Settings, channels: Mapping[str, object]) -> bool:
    """A channel's routes (Telegram's webhook), ``INGEST_SECRET``, a store connector, the
    web admin (``WEB_SECRET``) or ``HTTP_SERVER=on`` need the server."""
    if settings.ingest_secret or settings.web_secret or settings.http_server == "on":
        return True
    if any(_declares_routes(channel) for channel in channels.values()):
        return True
    from bot.stores.registry import enabled_connectors

    return bool(enabled_connectors(settings))
