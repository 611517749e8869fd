"""HTTP as channels speak it: a request read whole, an answer, a route (no web framework).

The HTTP server (``bot.entrypoints.http``) turns its framework's requests into these,
so a channel owns the checks of its own requests (a secret header, an HMAC of the raw
body, a verification echo) without knowing the server.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any


class Headers(Mapping[str, str]):
    """HTTP headers, looked up regardless of case (``x-hub-signature-256`` is the same)."""

    def __init__(self, items: Mapping[str, str] | None = None) -> None:
        self._items = {k.lower(): v for k, v in (items or {}).items()}

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


@dataclass(frozen=True)
class HttpRequest:
    """One request to a channel's route, its body read whole (signatures cover raw bytes)."""

    method: str
    path: str
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=Headers)
    body: bytes = b""
    remote: str | None = None  # the peer's address, for log lines

    def __post_init__(self) -> None:
        if not isinstance(self.headers, Headers):
            object.__setattr__(self, "headers", Headers(self.headers))


@dataclass(frozen=True)
class HttpResponse:
    """A route's answer; a ``str`` body is sent as UTF-8."""

    status: int
    body: bytes | str = b""
    content_type: str = "text/plain"

    @classmethod
    def json(cls, data: Any, status: int = 200) -> HttpResponse:
        return cls(status, json.dumps(data), "application/json")


RouteHandler = Callable[[HttpRequest], Awaitable[HttpResponse]]


@dataclass(frozen=True)
class Route:
    """One HTTP method and path a channel answers, and the coroutine that answers it."""

    method: str  # "GET" or "POST"
    path: str  # absolute, e.g. "/telegram/webhook"
    handle: RouteHandler
