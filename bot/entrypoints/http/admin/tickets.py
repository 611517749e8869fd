"""The tickets: the list with its filters, a ticket's page, and the actions on it.

The actions go through ``OperatorService`` -- the methods ``/reply``, ``/resolve``,
``/reopen`` and ``/assign`` run in the chat -- in one transaction, so the reply goes
through the outbox and the ticket's events record the operator and the time exactly
as the chat's commands do. The outbox sender is woken after the commit.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import select

from bot.entrypoints.http.admin.guard import Visit, staff_page
from bot.entrypoints.http.admin.session import notice
from bot.i18n import translate
from bot.operators import OperatorError, OperatorService, targets_of
from bot.operators import ticket_view as view
from bot.operators.access import staff_ids
from bot.operators.alerts import opening_score
from storage.models import Customer, Message, Order, Ticket
from storage.read.ticket_context import last_answer_delivery, ticket_events
from storage.read.ticket_list import SORTS, STATUSES, TicketFilter, find_tickets
from storage.roles import staff

CONVERSATION = 50  # the customer's last messages shown on a ticket's page
ACTIONS = ("reply", "resolve", "reopen", "assign")


def _number(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 12:
        raise web.HTTPNotFound()
    return int(text)


def _filter(query: Any) -> TicketFilter:
    sla = query.get("sla", "")
    return TicketFilter(
        status=query.get("status", "active") if query.get("status") in STATUSES else "active",
        assignee=query.get("assignee", "").strip()[:64],
        category=query.get("category", "") if query.get("category") in view.CATEGORY else "",
        customer=query.get("customer", "").strip()[:128],
        sla=sla if sla in ("at_risk", "breached") else "",
        sort=query.get("sort", "oldest") if query.get("sort") in SORTS else "oldest",
    )


@staff_page("tickets")
async def ticket_list(v: Visit) -> web.StreamResponse:
    query = v.request.query
    f = _filter(query)
    page = int(query["page"]) if query.get("page", "").isdigit() else 1
    settings = v.admin.settings
    async with v.admin.db.reader() as uow:
        found = await find_tickets(uow.session, f, min(page, 10**6), targets_of(settings), v.now)
        ids = {t.customer_id for t in found.tickets if t.customer_id is not None}
        customers = {
            c.id: c for c in await uow.session.scalars(select(Customer).where(Customer.id.in_(ids)))
        }
    return v.page(
        "tickets.html",
        found=found,
        f=f,
        customers=customers,
        statuses=STATUSES,
        categories={k: translate(m, v.lang) for k, m in view.CATEGORY.items()},
        state_names={k: translate(m, v.lang) for k, m in view.STATUS.items()},
        query={k: query[k] for k in query if k != "page"},
    )


async def _ticket_values(v: Visit, number: int) -> dict[str, Any]:
    async with v.admin.db.reader() as uow:
        session = uow.session
        ticket = await session.get(Ticket, number)
        if ticket is None:
            raise web.HTTPNotFound()
        customer = await session.get(Customer, ticket.customer_id) if ticket.customer_id else None
        events = await ticket_events(session, ticket.id)
        messages: list[Message] = []
        answer = None
        if ticket.customer_id is not None:
            newest = await session.scalars(
                select(Message)
                .where(Message.customer_id == ticket.customer_id)
                .order_by(Message.at.desc(), Message.id.desc())
                .limit(CONVERSATION)
            )
            messages = list(newest)[::-1]
            answer = await last_answer_delivery(session, ticket.customer_id)
        order = await session.get(Order, ticket.order_id) if ticket.order_id else None
        nps = await opening_score(session, ticket)
        members = await staff(session, staff_ids(v.admin.settings))
    return {
        "staff": members,
        "ticket": ticket,
        "customer": customer,
        "events": events,
        "messages": messages,
        "answer": answer,
        "order": order,
        "nps": nps,
    }


def _actor(actor: str, lang: str) -> str:
    return actor[3:] if actor.startswith("op:") else view._named(view.ACTOR, actor, lang)


@staff_page("ticket")
async def ticket_page(v: Visit) -> web.StreamResponse:
    values = await _ticket_values(v, _number(v.request.match_info["number"]))
    lang = v.lang
    return v.page(
        "ticket.html",
        **values,
        status_name=view.status(values["ticket"], lang),
        category_name=view.category(values["ticket"], lang),
        who=view.who(values["customer"], lang),
        event_name=lambda kind: view._named(view.EVENT, kind, lang),
        actor_name=lambda actor: _actor(actor, lang),
        answer_state=lambda state: view._named(view.STATES, state, lang),
    )


async def _act(v: Visit, action: str, number: int) -> list[Any]:
    admin = v.admin
    form: Any = v.form or {}
    async with admin.db.uow() as uow:
        service = OperatorService(
            uow.session, admin.settings, admin.wiring.messenger, v.now, v.lang
        )
        if action == "reply":
            bodies = await service.reply(v.user_id, number, str(form.get("text", "")))
        elif action == "resolve":
            bodies = await service.resolve(v.user_id, number)
        elif action == "reopen":
            bodies = await service.reopen(v.user_id, number)
        else:
            bodies = await service.assign(v.user_id, number, str(form.get("assignee", "")))
        await uow.commit()
    admin.wiring.wake()
    return bodies


def ticket_action(action: str) -> Any:
    """``POST /admin/tickets/N/<action>``: the chat's command of that name, then back."""

    @staff_page(action)
    async def act(v: Visit) -> web.StreamResponse:
        number = _number(v.request.match_info["number"])
        try:
            bodies = await _act(v, action, number)
            said, kind = (bodies[0].text if bodies else ""), "ok"
        except OperatorError as exc:
            said, kind = str(exc), "error"
        response = web.Response(status=303, headers={"Location": f"/admin/tickets/{number}"})
        notice(response, v.admin.settings, v.admin.signer, said, kind)
        return response

    return act
