"""Operators' corrections of the theme of a survey reason or a ticket description."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, BigId


class ThemeCorrection(Base):
    """Who changed which text's theme, when, from what to what.

    Kept for training a later model on the corrected texts (``storage.themes``); the
    text's row keeps the current theme, marked ``theme_source = "operator"``.
    """

    __tablename__ = "theme_corrections"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    response_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey_responses.id", ondelete="SET NULL"), index=True
    )
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL"), index=True
    )
    old_theme: Mapped[str | None] = mapped_column(String(24))
    new_theme: Mapped[str] = mapped_column(String(24))
    actor: Mapped[str] = mapped_column(String(64))  # "op:<user id>"
    at: Mapped[datetime]
