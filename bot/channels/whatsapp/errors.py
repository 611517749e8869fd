"""Graph API error objects as the neutral send errors the outbox sender acts on.

An error answer is ``{"error": {"message", "type", "code", "error_data": {"details"},
"error_subcode", "fbtrace_id"}}``; Meta asks that handling be built on ``code`` (and
``details``), not on the message's wording.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.channels.port import (
    ChatRetryAfter,
    Forbidden,
    Halted,
    Rejected,
    RetryAfter,
    SendError,
    Transient,
)

WINDOW_CLOSED = 131047  # re-engagement: more than 24 hours since the customer wrote
THROUGHPUT = 130429  # the number's messages a second
PAIR_RATE = 131056  # too many messages to one user in a short time
UNDELIVERABLE = 131026  # not a WhatsApp number, old client, terms not accepted
SPAM_RATE = 131048  # the number is limited for spam: stop sending for a while
ENGAGEMENT = 131049  # Meta chose not to deliver (ecosystem engagement)
TOO_MANY_CALLS = (4, 80007)  # the app's or the account's call rate
TOKEN = 190  # the access token expired or was revoked
SERVER_SIDE = (131000, 131016)  # something went wrong / service unavailable

THROUGHPUT_WAIT = 2.0
PAIR_WAIT = 6.0  # Meta: one message every 6 seconds to one user after the burst
CALLS_WAIT = 60.0


@dataclass(eq=False)
class GraphError(Exception):
    """A Graph API answer that was an error object (or an error status without one)."""

    status: int
    code: int | None
    message: str
    details: str | None = None
    subcode: int | None = None

    def __str__(self) -> str:
        return describe(self)


def describe(error: GraphError) -> str:
    """``code: message (details)``, as kept in the outbox row and shown to operators."""
    code = error.code if error.code is not None else f"HTTP {error.status}"
    details = f" ({error.details})" if error.details else ""
    return f"{code}: {error.message}{details}"


def read_error(status: int, data: Any) -> GraphError:
    """The ``GraphError`` of an error answer's JSON (anything else: the bare status)."""
    found = data.get("error") if isinstance(data, dict) else None
    if not isinstance(found, dict):
        return GraphError(status, None, f"HTTP {status} without an error object")
    extra = found.get("error_data")
    details = extra.get("details") if isinstance(extra, dict) else None
    code, subcode = found.get("code"), found.get("error_subcode")
    return GraphError(
        status,
        code if isinstance(code, int) else None,
        str(found.get("message") or "no message"),
        str(details) if details else None,
        subcode if isinstance(subcode, int) else None,
    )


def neutral_error(error: GraphError) -> SendError:
    """What the sender does about ``error``: wait, pause the number, give up, retry."""
    reason, code = describe(error), error.code
    if code == THROUGHPUT:
        return RetryAfter(THROUGHPUT_WAIT)
    if code == PAIR_RATE:
        return ChatRetryAfter(PAIR_WAIT)
    if code in TOO_MANY_CALLS:
        return RetryAfter(CALLS_WAIT)
    if code == UNDELIVERABLE:
        return Forbidden(reason)
    if code in (SPAM_RATE, TOKEN) or error.status == 401:
        return Halted(reason)
    if code in SERVER_SIDE or error.status >= 500:
        return Transient(reason)
    return Rejected(reason)


def window_closed(error: GraphError) -> bool:
    return error.code == WINDOW_CLOSED
