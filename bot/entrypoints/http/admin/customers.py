"""Customers (admins): a lookup, a customer's page, and the data-rights actions.

Export and forget each ask first: ``GET .../export`` and ``GET .../forget`` show what
will happen and a POST form (with the CSRF token); only the POST acts. Export is
``export_customer_data`` (what /mydata sends the customer) as a JSON download; forget
is ``forget_customer`` with the export files erased, as /forget does. Each is logged
and recorded in ``web_actions`` (who, what, whom, when).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from aiohttp import web
from sqlalchemy import select

from bot.delivery import exports
from bot.entrypoints.http.admin.guard import Visit, staff_page
from bot.entrypoints.http.admin.pages import HEADERS
from bot.entrypoints.http.admin.session import notice
from bot.i18n import translate
from bot.operators import theme_view
from bot.operators import ticket_view as view
from bot.operators.kpi_format import money
from bot.phones import normalise_phone
from storage.data_rights import export_customer_data, forget_customer
from storage.models import Customer, Order, SurveyResponse, Ticket, WebAction
from storage.read.message_search import customers_matching

log = logging.getLogger("postsale.admin")
ROLE_OF = "history"  # the chat's /history: admins
SHOWN = 100  # orders, answers, tickets shown of one customer (the newest)


def _id(v: Visit) -> int:
    text = v.request.match_info["number"]
    if not (text.isascii() and text.isdigit()) or len(text) > 12:
        raise web.HTTPNotFound()
    return int(text)


@staff_page(ROLE_OF)
async def customer_lookup(v: Visit) -> web.StreamResponse:
    typed = v.request.query.get("q", "").strip()[:128]
    found: list[Customer] = []
    if typed:
        phone = normalise_phone(typed, v.admin.settings.default_locale)
        async with v.admin.db.reader() as uow:
            s = uow.session
            ids = set(await customers_matching(s, customer=typed) or ())
            ids |= set(await customers_matching(s, order=typed) or ())
            if phone:
                ids |= set(await customers_matching(s, phone=phone) or ())
            picked = sorted(ids)[:SHOWN]
            found = list(await s.scalars(select(Customer).where(Customer.id.in_(picked))))
    return v.page("customers.html", typed=typed, found=found)


async def _values(v: Visit, number: int) -> dict[str, Any]:
    async with v.admin.db.reader() as uow:
        s = uow.session
        customer = await s.get(Customer, number)
        if customer is None:
            raise web.HTTPNotFound()

        async def newest(model: Any, at: Any) -> list[Any]:
            query = select(model).where(model.customer_id == number).order_by(at.desc())
            return list(await s.scalars(query.limit(SHOWN)))

        orders = await newest(Order, Order.purchased_at)
        answers = await newest(SurveyResponse, SurveyResponse.answered_at)
        tickets = await newest(Ticket, Ticket.opened_at)
        actions = await newest(WebAction, WebAction.at)
    return {
        "customer": customer,
        "orders": orders,
        "answers": answers,
        "tickets": tickets,
        "actions": actions,
    }


@staff_page(ROLE_OF)
async def customer_page(v: Visit) -> web.StreamResponse:
    values = await _values(v, _id(v))
    lang = v.lang
    return v.page(
        "customer.html",
        **values,
        who=view.who(values["customer"], lang),
        theme_name=lambda key: theme_view.label(key, lang) if key else "",
        status_name=lambda t: view.status(t, lang),
        category_name=lambda t: view.category(t, lang),
        money=lambda cents, currency: money(cents, currency or ""),
    )


def confirm_page(action: str) -> Any:
    """``GET /admin/customers/N/<action>``: what it will do, and the button that does it."""

    @staff_page(ROLE_OF)
    async def ask(v: Visit) -> web.StreamResponse:
        number = _id(v)
        async with v.admin.db.reader() as uow:
            customer = await uow.session.get(Customer, number)
        if customer is None:
            raise web.HTTPNotFound()
        who = view.who(customer, v.lang)
        return v.page("confirm.html", action=action, customer=customer, who=who)

    return ask


async def _record(v: Visit, action: str, number: int, detail: str) -> None:
    async with v.admin.db.uow() as uow:
        uow.session.add(
            WebAction(user_id=v.user_id, action=action, customer_id=number, detail=detail, at=v.now)
        )
        await uow.commit()
    log.info("%s in the web admin: %s customer %s (%s)", v.user_id, action, number, detail)


@staff_page(ROLE_OF)
async def customer_export(v: Visit) -> web.StreamResponse:
    number = _id(v)
    async with v.admin.db.reader() as uow:
        data = await export_customer_data(uow.session, number)
    if not data:
        raise web.HTTPNotFound()
    await _record(v, "export", number, f"{len(data.get('messages', []))} messages")
    body = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    headers = {
        **HEADERS,
        "Content-Disposition": f'attachment; filename="customer-{number}.json"',
    }
    return web.Response(text=body, content_type="application/json", headers=headers)


@staff_page(ROLE_OF)
async def customer_forget(v: Visit) -> web.StreamResponse:
    number = _id(v)
    async with v.admin.db.uow() as uow:
        if await uow.session.get(Customer, number) is None:
            raise web.HTTPNotFound()
        report = await forget_customer(uow.session, number, v.now)
        await uow.commit()
    # As /forget: the export files go too.
    await asyncio.to_thread(exports.erase_customer_files, v.admin.settings.data_dir, number)
    detail = (
        f"chat links {report.chat_links}, messages {report.messages}, "
        f"answers kept {report.answers_kept}, tickets kept {report.tickets_kept}, "
        f"queued dropped {report.queued_dropped}"
    )
    await _record(v, "forget", number, detail)
    said = translate(
        "Customer #{n} forgotten: {messages} messages erased, {links} chat links removed.",
        v.lang,
        n=number,
        messages=report.messages,
        links=report.chat_links,
    )
    response = web.Response(status=303, headers={"Location": f"/admin/customers/{number}"})
    notice(response, v.admin.settings, v.admin.signer, said, "ok")
    return response
