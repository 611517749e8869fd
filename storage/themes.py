"""Themes of the stored texts: operators' corrections, re-tagging, the corrected pairs.

A text's theme comes from the model (``theme_source = "model"``) or from an operator
(``"operator"``); an operator's is never overwritten by the model again. Tagging itself
is the caller's (``TagMany``): storage does not know the model.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import SurveyResponse, ThemeCorrection, Ticket

TagMany = Callable[[Sequence[str]], list[str | None]]
"""Themes of texts, in their order (``bot.themes.ThemeModel.tag_many``)."""

OPERATOR = "operator"
RETAG_BATCH = 2000


async def opening_answer(session: AsyncSession, ticket: Ticket) -> SurveyResponse | None:
    """The NPS answer that opened a detractor ticket (the customer's last one before it)."""
    if ticket.source != "detractor" or ticket.customer_id is None:
        return None
    return await session.scalar(
        select(SurveyResponse)
        .where(
            SurveyResponse.customer_id == ticket.customer_id,
            SurveyResponse.kind == "nps",
            SurveyResponse.answered_at <= ticket.opened_at,
        )
        .order_by(SurveyResponse.answered_at.desc(), SurveyResponse.id.desc())
        .limit(1)
    )


async def correct_ticket_theme(
    session: AsyncSession, ticket: Ticket, theme: str, actor: str, now: datetime
) -> tuple[str | None, SurveyResponse | None]:
    """An operator's theme for the ticket's description and for the answer that opened it.

    Returns the description's theme before, and the answer corrected too (if any).
    Each change is kept in ``theme_corrections`` (who, when, old, new).
    """
    old = ticket.theme
    ticket.theme, ticket.theme_source = theme, OPERATOR
    session.add(
        ThemeCorrection(ticket_id=ticket.id, old_theme=old, new_theme=theme, actor=actor, at=now)
    )
    answer = await opening_answer(session, ticket)
    if answer is not None:
        session.add(
            ThemeCorrection(
                response_id=answer.id, old_theme=answer.theme, new_theme=theme, actor=actor, at=now
            )
        )
        answer.theme, answer.theme_source = theme, OPERATOR
    return old, answer


def correct_answer_theme(
    session: AsyncSession, answer: SurveyResponse, theme: str, actor: str, now: datetime
) -> str | None:
    """An operator's theme for one survey answer (from its detail); the theme before.

    Kept in ``theme_corrections`` as a ticket's is, so ``corrected_texts`` (``themes
    train --with-corrections``) learns from it and ``retag`` leaves it alone.
    """
    old = answer.theme
    session.add(
        ThemeCorrection(response_id=answer.id, old_theme=old, new_theme=theme, actor=actor, at=now)
    )
    answer.theme, answer.theme_source = theme, OPERATOR
    return old


async def answer_corrections(session: AsyncSession, answer_id: int) -> list[ThemeCorrection]:
    """Every correction of one answer's theme, oldest first."""
    query = (
        select(ThemeCorrection)
        .where(ThemeCorrection.response_id == answer_id)
        .order_by(ThemeCorrection.at, ThemeCorrection.id)
    )
    return list(await session.scalars(query))


async def corrected_texts(session: AsyncSession) -> AsyncIterator[tuple[str, str]]:
    """``(text, theme)`` of every text whose theme an operator set (for training).

    The answers' reasons first, then the tickets' descriptions; a text met in both
    (a detractor's reason opens its ticket) comes twice, once as each.
    """
    for text_column, model in (
        (SurveyResponse.reason, SurveyResponse),
        (Ticket.description, Ticket),
    ):
        query = (
            select(text_column, model.theme)
            .where(model.theme_source == OPERATOR, text_column.is_not(None))
            .order_by(model.id)
            .execution_options(yield_per=RETAG_BATCH)
        )
        async for text, theme in await session.stream(query):
            if text and theme:
                yield text, theme


async def retag(
    sessions: async_sessionmaker[AsyncSession], tag_many: TagMany, batch_size: int = RETAG_BATCH
) -> tuple[Counter[str | None], int]:
    """Tag every stored reason and description again, a batch a transaction.

    Returns how many texts got each theme (None: no theme) and how many an operator's
    theme kept as it was.
    """
    counts: Counter[str | None] = Counter()
    kept = 0
    for model, text_column in (
        (SurveyResponse, SurveyResponse.reason),
        (Ticket, Ticket.description),
    ):
        after = 0
        while True:
            async with sessions.begin() as session:
                rows = await _batch(session, model, text_column, after, batch_size)
                if not rows:
                    break
                after = rows[-1][0]
                await _write_themes(session, model, rows, tag_many, counts)
        async with sessions() as session:
            kept += await _count_corrected(session, model, text_column)
    return counts, kept


async def _batch(
    session: AsyncSession, model: Any, text_column: Any, after: int, size: int
) -> list[tuple[int, str]]:
    query = (
        select(model.id, text_column)
        .where(
            model.id > after,
            text_column.is_not(None),
            model.theme_source.is_distinct_from(OPERATOR),
        )
        .order_by(model.id)
        .limit(size)
    )
    return [(int(i), str(t)) for i, t in (await session.execute(query)).all()]


async def _write_themes(
    session: AsyncSession,
    model: Any,
    rows: list[tuple[int, str]],
    tag_many: TagMany,
    counts: Counter[str | None],
) -> None:
    themes = tag_many([text for _, text in rows])
    counts.update(themes)
    table = model.__table__
    stmt = (
        update(table)
        .where(table.c.id == bindparam("b_id"), table.c.theme_source.is_distinct_from(OPERATOR))
        .values(theme=bindparam("b_theme"), theme_source=bindparam("b_source"))
    )
    params = [
        {"b_id": i, "b_theme": theme, "b_source": None if theme is None else "model"}
        for (i, _), theme in zip(rows, themes, strict=True)
    ]
    connection = await session.connection()
    await connection.execute(stmt, params)


async def _count_corrected(session: AsyncSession, model: Any, text_column: Any) -> int:
    query = select(func.count()).where(model.theme_source == OPERATOR, text_column.is_not(None))
    return int(await session.scalar(query) or 0)
