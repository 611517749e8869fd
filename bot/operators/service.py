"""Operator and admin actions. Every public method checks the caller's role first.

The chat handler, the ``op:`` buttons and any other entry point call these methods,
so a role is never checked only at the edge (DESIGN.md invariant 7). Each method
returns the messages to show the operator; ``OperatorError`` carries a clear answer
for a wrong request (unknown ticket, missing text, ...).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from bot.i18n import ngettext, resolve_locale, translate
from bot.operators import ticket_view as view
from bot.operators.access import staff_ids
from bot.operators.admin import AdminActions
from bot.operators.alerts import opening_score, targets_of
from bot.operators.base import Body, OperatorError
from bot.operators.kpi_view import definitions_text, duration, summary_text
from bot.operators.periods import BadPeriod, parse_period, period_label
from bot.operators.themes import ThemeActions
from bot.operators.window_note import window_note
from flows.replies import N_
from flows.staff import REPLY_HEADER
from storage import dead_updates
from storage import tickets as tk
from storage.models import Customer, Message, Order, Ticket
from storage.read.currency import main_currency
from storage.read.sla import sla_summary
from storage.read.ticket_context import last_answer_delivery, ticket_events, written_messages
from storage.roles import role_of

PAGE = 10


class OperatorService(AdminActions, ThemeActions):
    """Every operator and admin action; each public method checks the role first."""

    async def kpi(self, user_id: str, period_text: str) -> list[Body]:
        await self.allow(user_id, "kpi")
        try:
            period = parse_period(period_text, self.now, self.tz)
        except BadPeriod:
            raise OperatorError(
                translate(
                    "Use /kpi 7d, /kpi 30d, /kpi 90d or /kpi 2026-01-01..2026-01-31.", self.lang
                )
            ) from None
        try:
            targets = targets_of(self.settings)
        except ValueError as exc:
            raise OperatorError(str(exc)) from None
        from bot.operators.chart import chart_spec
        from storage.read.kpi import compute_kpis, weekly_scores

        s, before = self.session, period.previous
        zone = self.settings.default_timezone
        cur = await compute_kpis(s, period.since, period.until, self.now, default_zone=zone)
        prev = await compute_kpis(s, before.since, before.until, self.now, default_zone=zone)
        sla = await sla_summary(s, period.since, period.until, targets, self.now)
        sla_prev = await sla_summary(s, before.since, before.until, targets, self.now)
        label = period_label(period, self.lang)
        text = summary_text(
            label,
            cur,
            prev,
            sla,
            sla_prev,
            lang=self.lang,
            currency=await self._currency(),
            hours=str(targets.hours),
            first_target=duration(targets.first_response_s),
            resolution_target=duration(targets.resolution_s),
        )
        dead = await dead_updates.count(s)
        if dead:  # updates given up on (issue 21): somebody should look at them
            text += "\n⚠️ " + ngettext(
                "{n} update given up on: postsale dead-updates lists it",
                "{n} updates given up on: postsale dead-updates lists them",
                dead,
                self.lang,
                n=dead,
            )
        buttons = [
            [view.button(translate("What the figures mean", self.lang), "op:kpi:def")],
            [view.button(p, f"op:kpi:{p}") for p in ("7d", "30d", "90d")],
        ]
        bodies = [Body(text, view.rows(buttons))]
        weeks = await weekly_scores(s, period.since, period.until)
        if weeks:
            title = translate("NPS and CSAT by week, {period}", self.lang, period=label)
            detractors = (cur.get("themes") or {}).get("detractors")
            spec = chart_spec(list(weeks), title, detractors, self.lang)
            bodies.append(Body(title, chart=spec))
        return bodies

    async def kpi_definitions(self, user_id: str) -> list[Body]:
        await self.allow(user_id, "kpi")
        try:
            t = targets_of(self.settings)
        except ValueError as exc:
            raise OperatorError(str(exc)) from None
        text = definitions_text(
            self.lang,
            hours=str(t.hours),
            tz=t.tz.key,
            first=duration(t.first_response_s),
            resolution=duration(t.resolution_s),
        )
        return [Body(text)]

    async def _currency(self) -> str:
        return await main_currency(self.session)

    # -- tickets ------------------------------------------------------------------------

    async def tickets(self, user_id: str, which: str = "open", page: int = 1) -> list[Body]:
        await self.allow(user_id, "tickets")
        which = which or "open"
        if which not in ("open", "mine", "all"):
            raise OperatorError(
                translate("Use /tickets open, /tickets mine or /tickets all.", self.lang)
            )
        query = select(Ticket)
        if which != "all":
            query = query.where(Ticket.status.in_(tk.ACTIVE))
        if which == "mine":
            query = query.where(Ticket.assignee == user_id)
        total = int(
            await self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        )
        pages = max(1, -(-total // PAGE))
        page = min(max(1, page), pages)
        order = (Ticket.opened_at, Ticket.id) if which != "all" else (Ticket.id.desc(),)
        rows = list(
            await self.session.scalars(query.order_by(*order).offset((page - 1) * PAGE).limit(PAGE))
        )
        if not rows:
            empty = {"open": N_("No open tickets."), "mine": N_("No open tickets of yours.")}
            return [Body(translate(empty.get(which, N_("No tickets yet.")), self.lang))]
        lines = [
            translate(
                "Tickets ({which}) · page {page} of {pages} · {total} in all",
                self.lang,
                which=which,
                page=page,
                pages=pages,
                total=total,
            )
        ]
        lines += [view.list_line(t, self.tz, self.lang) for t in rows]
        buttons = [
            [view.button(f"#{t.id}", f"op:t:{t.id}") for t in rows[i : i + 5]]
            for i in range(0, len(rows), 5)
        ]
        nav = []
        if page > 1:
            nav.append(view.button(translate("◀ Previous", self.lang), f"op:tl:{which}:{page - 1}"))
        if page < pages:
            nav.append(view.button(translate("Next ▶", self.lang), f"op:tl:{which}:{page + 1}"))
        if nav:
            buttons.append(nav)
        return [Body(view.fit("\n".join(lines)), view.rows(buttons))]

    async def ticket(self, user_id: str, number: int) -> list[Body]:
        await self.allow(user_id, "ticket")
        ticket = await self._ticket(number)
        customer = (
            await self.session.get(Customer, ticket.customer_id) if ticket.customer_id else None
        )
        events = await ticket_events(self.session, ticket.id)
        messages: Sequence[Message] = []
        answer = None
        if ticket.customer_id is not None:
            messages = await written_messages(self.session, ticket.customer_id)
            answer = await last_answer_delivery(self.session, ticket.customer_id)
        order = await self.session.get(Order, ticket.order_id) if ticket.order_id else None
        nps = await opening_score(self.session, ticket)
        return [
            view.details(
                ticket,
                customer,
                events,
                messages,
                self.tz,
                self.lang,
                order=order,
                nps=nps,
                answer=answer,
            )
        ]

    async def reply(self, user_id: str, number: int, text: str) -> list[Body]:
        await self.allow(user_id, "reply")
        ticket = await self._ticket(number)
        text = text.strip()
        if not text:
            raise OperatorError(
                translate(
                    "What should I tell the customer? /reply {n} your text", self.lang, n=number
                )
            )
        if ticket.status == "closed":
            raise OperatorError(
                translate("Ticket #{n} is closed. /reopen {n} first.", self.lang, n=number)
            )
        customer = (
            await self.session.get(Customer, ticket.customer_id) if ticket.customer_id else None
        )
        if customer is None or customer.anonymised_at is not None:
            raise OperatorError(
                translate("Ticket #{n} has no customer to write to.", self.lang, n=number)
            )
        locale = resolve_locale(customer.locale, None, self.settings.default_locale)
        words = f"{translate(REPLY_HEADER, locale, n=ticket.id)}\n{text}"
        if not await self.messenger.tell_customer(self.session, customer.id, words, self.now):
            raise OperatorError(
                translate(
                    "The customer of ticket #{n} has no linked chat; nothing was sent.",
                    self.lang,
                    n=number,
                )
            )
        first = await tk.operator_reply(self.session, ticket, user_id, text, self.now)
        sent = translate("Sent to the customer of ticket #{n}.", self.lang, n=number)
        if first:
            after = duration(ticket.first_response_s)
            sent += translate(" First response after {after}.", self.lang, after=after)
        closed = await self.messenger.closed_window(self.session, customer.id, self.now)
        if closed is not None:
            sent += "\n" + window_note(closed, self.settings, self.lang)
        return [Body(sent)]

    async def resolve(self, user_id: str, number: int) -> list[Body]:
        await self.allow(user_id, "resolve")
        ticket = await self._ticket(number)
        try:
            await tk.resolve(self.session, ticket, f"op:{user_id}", self.now)
        except tk.TicketStateError:
            raise OperatorError(
                translate(
                    "Ticket #{n} is {status}.",
                    self.lang,
                    n=number,
                    status=view.status(ticket, self.lang),
                )
            ) from None
        asked = await self.messenger.ask_resolution(self.session, ticket, self.now)
        then = (
            N_("Ticket #{n} resolved after {after}. The customer was asked whether it is solved.")
            if asked
            else N_(
                "Ticket #{n} resolved after {after}. "
                "The customer has no linked chat, so nobody was asked."
            )
        )
        text = translate(then, self.lang, n=number, after=duration(ticket.resolution_s))
        return [Body(text, view.actions(ticket, self.lang))]

    async def reopen(self, user_id: str, number: int) -> list[Body]:
        await self.allow(user_id, "reopen")
        ticket = await self._ticket(number)
        try:
            await tk.reopen(self.session, ticket, f"op:{user_id}", self.now)
        except tk.TicketStateError:
            raise OperatorError(
                translate("Ticket #{n} is already open.", self.lang, n=number)
            ) from None
        text = translate("Ticket #{n} is open again.", self.lang, n=number)
        return [Body(text, view.actions(ticket, self.lang))]

    async def assign(self, user_id: str, number: int, assignee: str = "") -> list[Body]:
        await self.allow(user_id, "assign")
        ticket = await self._ticket(number)
        assignee = assignee.strip() or user_id
        if (
            assignee != user_id
            and await role_of(self.session, staff_ids(self.settings), assignee) is None
        ):
            raise OperatorError(
                translate("{who} is not an operator (see /operators).", self.lang, who=assignee)
            )
        await tk.assign(self.session, ticket, assignee, f"op:{user_id}", self.now)
        if assignee == user_id:
            text = translate("Ticket #{n} is assigned to you.", self.lang, n=number)
        else:
            text = translate("Ticket #{n} is assigned to {who}.", self.lang, n=number, who=assignee)
        return [Body(text, view.actions(ticket, self.lang))]
