"""``/theme N THEME`` (an operator corrects what a ticket is about), an answer's theme
corrected from its detail (the web admin's answer page), and ``/kpi themes``."""

from __future__ import annotations

from bot.i18n import translate
from bot.operators import theme_view
from bot.operators.base import Body, OperatorError, ServiceBase, ticket_number
from bot.operators.periods import BadPeriod, parse_period, period_label
from flows.replies import N_
from flows.themes import is_theme
from storage.models import SurveyResponse
from storage.read.theme_kpi import theme_kpis
from storage.themes import correct_answer_theme, correct_ticket_theme

PERIOD_HELP = N_("Use /kpi 7d, /kpi 30d, /kpi 90d or /kpi 2026-01-01..2026-01-31.")


class ThemeActions(ServiceBase):
    """Theme corrections and the themes' KPIs; each checks the role first."""

    async def theme(self, user_id: str, args: str) -> list[Body]:
        await self.allow(user_id, "theme")
        number_text, _, name = args.strip().partition(" ")
        name = name.strip().lower()
        if not number_text or not name:
            raise OperatorError(
                translate(
                    "Use /theme N THEME, e.g. /theme 12 late_delivery. The themes:\n{themes}",
                    self.lang,
                    themes=theme_view.theme_list(self.lang),
                )
            )
        number = ticket_number(number_text, self.lang)
        self._check_theme(name)
        ticket = await self._ticket(number)
        old, answer = await correct_ticket_theme(
            self.session, ticket, name, f"op:{user_id}", self.now
        )
        text = translate(
            "Ticket #{n} is now about: {theme} (before: {old}).",
            self.lang,
            n=number,
            theme=theme_view.label(name, self.lang),
            old=theme_view.label(old, self.lang),
        )
        if answer is not None:
            text += " " + translate("So is the NPS answer that opened it.", self.lang)
        return [Body(text)]

    def _check_theme(self, name: str) -> None:
        if not is_theme(name):
            raise OperatorError(
                translate(
                    "There is no theme {got}. The themes:\n{themes}",
                    self.lang,
                    got=repr(name),
                    themes=theme_view.theme_list(self.lang),
                )
            )

    async def answer_theme(self, user_id: str, answer_id: int, name: str) -> list[Body]:
        """An answer's theme corrected from its detail; the same role as ``/theme``."""
        await self.allow(user_id, "theme")
        name = name.strip().lower()
        self._check_theme(name)
        answer = await self.session.get(SurveyResponse, answer_id)
        if answer is None:
            raise OperatorError(translate("There is no answer #{n}.", self.lang, n=answer_id))
        old = correct_answer_theme(self.session, answer, name, f"op:{user_id}", self.now)
        text = translate(
            "Answer #{n} is now about: {theme} (before: {old}).",
            self.lang,
            n=answer_id,
            theme=theme_view.label(name, self.lang),
            old=theme_view.label(old, self.lang),
        )
        return [Body(text)]

    async def kpi_themes(self, user_id: str, period_text: str) -> list[Body]:
        await self.allow(user_id, "kpi")
        try:
            period = parse_period(period_text, self.now, self.tz)
        except BadPeriod:
            raise OperatorError(translate(PERIOD_HELP, self.lang)) from None
        themes = await theme_kpis(self.session, period.since, period.until)
        title = period_label(period, self.lang)
        return [Body(theme_view.all_groups(themes, title, self.lang))]
