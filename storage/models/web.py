"""The web admin's sign-in links, each of which becomes one browser session."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, BigId


class WebLink(Base):
    """A one-time sign-in link for an operator or admin, and the session it opened.

    Only the SHA-256 of the link's token is kept: a copy of the database signs nobody
    in. ``used_at`` set: the link was spent and its session runs until ``session_until``
    or ``signed_out_at``.
    """

    __tablename__ = "web_links"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    session_until: Mapped[datetime | None]
    signed_out_at: Mapped[datetime | None]


class WebAction(Base):
    """A data-rights action taken in the web admin (a customer's data exported or
    forgotten): who, what, on whom and when -- the record beside the log line."""

    __tablename__ = "web_actions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(24))  # "export" or "forget"
    customer_id: Mapped[int | None] = mapped_column(BigInteger, index=True)  # no foreign key: kept
    detail: Mapped[str | None] = mapped_column(String(500))
    at: Mapped[datetime]
