"""The web admin's one-time sign-in links and the sessions they open.

A link is spent by one conditional ``UPDATE`` (unused and not expired), so two
browsers racing with the same link open one session between them, on SQLite and
PostgreSQL alike. Only the token's SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import WebLink

LINK_TTL = timedelta(minutes=10)
LinkState = Literal["valid", "used", "expired", "unknown"]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_link(
    session: AsyncSession, user_id: str, now: datetime, ttl: timedelta = LINK_TTL
) -> str:
    """A fresh link token for ``user_id``, valid once within ``ttl``."""
    token = secrets.token_urlsafe(32)
    session.add(
        WebLink(
            token_hash=token_hash(token),
            user_id=str(user_id),
            created_at=now,
            expires_at=now + ttl,
        )
    )
    await session.flush()
    return token


async def _find(session: AsyncSession, token: str) -> WebLink | None:
    return await session.scalar(select(WebLink).where(WebLink.token_hash == token_hash(token)))


def _state(link: WebLink | None, now: datetime) -> LinkState:
    if link is None:
        return "unknown"
    if link.used_at is not None:
        return "used"
    return "expired" if link.expires_at <= now else "valid"


async def link_state(session: AsyncSession, token: str, now: datetime) -> LinkState:
    """What a link is now, without spending it."""
    return _state(await _find(session, token), now)


@dataclass(frozen=True)
class Spent:
    """The outcome of spending a link: its state before, and the session it opened."""

    state: LinkState
    session_id: int | None = None
    user_id: str | None = None


async def spend_link(
    session: AsyncSession, token: str, now: datetime, session_ttl: timedelta
) -> Spent:
    """Spend the link once and open its session until ``now + session_ttl``."""
    link = await _find(session, token)
    state = _state(link, now)
    if link is None or state != "valid":
        return Spent(state)
    result = await session.execute(
        update(WebLink)
        .where(WebLink.id == link.id, WebLink.used_at.is_(None), WebLink.expires_at > now)
        .values(used_at=now, session_until=now + session_ttl)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        return Spent("used")
    return Spent("valid", link.id, link.user_id)


async def session_user(session: AsyncSession, session_id: int, now: datetime) -> str | None:
    """The user of a running session; None once it ended or was signed out."""
    link = await session.get(WebLink, session_id)
    if link is None or link.used_at is None or link.signed_out_at is not None:
        return None
    if link.session_until is None or link.session_until <= now:
        return None
    return link.user_id


async def sign_out(session: AsyncSession, session_id: int, now: datetime) -> None:
    await session.execute(
        update(WebLink)
        .where(WebLink.id == session_id, WebLink.signed_out_at.is_(None))
        .values(signed_out_at=now)
        .execution_options(synchronize_session=False)
    )
