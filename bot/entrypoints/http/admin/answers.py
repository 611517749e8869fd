"""One survey answer's detail (linked from its customer's page), and its theme corrected.

``GET /admin/answers/N`` shows the score, the reason, the theme and who set it, and every
earlier correction; its form posts to ``/admin/answers/N/theme``, which is
``OperatorService.answer_theme``: the role of ``/theme``, a row in ``theme_corrections``
(so ``themes train --with-corrections`` learns from it), then back to the detail.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.entrypoints.http.admin.guard import Visit, staff_page
from bot.entrypoints.http.admin.session import notice
from bot.operators import theme_view
from bot.operators import ticket_view as view
from bot.operators.base import OperatorError
from bot.operators.service import OperatorService
from flows.themes import THEMES
from storage.models import Customer, SurveyResponse
from storage.themes import answer_corrections

ROLE_OF = "history"  # as the customer's page it is linked from: the reason is theirs


def _id(v: Visit) -> int:
    text = v.request.match_info["number"]
    if not (text.isascii() and text.isdigit()) or len(text) > 12:
        raise web.HTTPNotFound()
    return int(text)


async def _values(v: Visit, number: int) -> dict[str, Any]:
    async with v.admin.db.reader() as uow:
        s = uow.session
        answer = await s.get(SurveyResponse, number)
        if answer is None:
            raise web.HTTPNotFound()
        customer = await s.get(Customer, answer.customer_id) if answer.customer_id else None
        corrections = await answer_corrections(s, number)
    return {"answer": answer, "customer": customer, "corrections": corrections}


@staff_page(ROLE_OF)
async def answer_page(v: Visit) -> web.StreamResponse:
    values = await _values(v, _id(v))
    lang = v.lang
    customer = values["customer"]
    return v.page(
        "answer.html",
        **values,
        who=view.who(customer, lang) if customer is not None else "",
        themes=[(name, theme_view.label(name, lang)) for name in THEMES],
        theme_name=lambda key: theme_view.label(key, lang),
    )


@staff_page("theme")
async def answer_theme(v: Visit) -> web.StreamResponse:
    number = _id(v)
    form: Any = v.form or {}
    admin = v.admin
    try:
        async with admin.db.uow() as uow:
            service = OperatorService(
                uow.session, admin.settings, admin.wiring.messenger, v.now, v.lang
            )
            bodies = await service.answer_theme(v.user_id, number, str(form.get("theme", "")))
            await uow.commit()
        said, kind = (bodies[0].text if bodies else ""), "ok"
    except OperatorError as exc:
        said, kind = str(exc), "error"
    response = web.Response(status=303, headers={"Location": f"/admin/answers/{number}"})
    notice(response, admin.settings, admin.signer, said, kind)
    return response
