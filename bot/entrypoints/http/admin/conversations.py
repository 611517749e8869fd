"""Conversations (admins): the search, a transcript, and the export of a search.

The search reads ``storage.read.message_search`` (each field through an index); the
export streams the same rows as ``postsale conversations export`` writes them, CSV or
JSONL, a batch at a time to the response (``StreamResponse``), never the whole set in
memory. What customers wrote goes out as data: a download (``attachment``), never a page.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.entrypoints.http.admin.guard import Visit, staff_page
from bot.entrypoints.http.admin.pages import HEADERS
from bot.i18n import translate
from bot.operators import ticket_view as view
from bot.phones import normalise_phone
from storage.read.message_search import (
    MessageSearch,
    customers_matching,
    search_clauses,
    search_messages,
    words_of,
)
from storage.read.transcript_view import transcript
from storage.read.transcripts import FIELDS, spreadsheet_safe, stream_messages

log = logging.getLogger("postsale.admin")
# The role these pages need: that of the chat's /history (admins).
ROLE_OF = "history"
FLOWS = ("idle", "survey", "complaint", "resolution", "account")
FORMATS = {"csv": "text/csv", "jsonl": "application/x-ndjson"}


@dataclass(frozen=True)
class Asked:
    """The search form as typed (shown back), and whether anything was asked."""

    customer: str = ""
    phone: str = ""
    order: str = ""
    since: str = ""
    until: str = ""
    flow: str = ""
    words: str = ""

    @property
    def any(self) -> bool:
        return any(vars(self).values())


def _day(text: str, tz: ZoneInfo, *, end: bool) -> datetime | None:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return datetime.combine(day + timedelta(days=1 if end else 0), time(0), tzinfo=tz)


def _asked(query: Any) -> Asked:
    def field(name: str, most: int = 128) -> str:
        return str(query.get(name, "")).strip()[:most]

    flow = field("flow")
    return Asked(
        customer=field("customer"),
        phone=field("phone", 40),
        order=field("order"),
        since=field("since", 10),
        until=field("until", 10),
        flow=flow if flow in FLOWS else "",
        words=field("words", 200),
    )


async def _search(v: Visit, asked: Asked) -> MessageSearch:
    tz = v.admin.settings.operators_tz
    phone = None
    if asked.phone:
        # An unreadable number matches nobody (the empty string is no customer's phone).
        phone = normalise_phone(asked.phone, v.admin.settings.default_locale) or ""
    async with v.admin.db.reader() as uow:
        people = await customers_matching(
            uow.session, customer=asked.customer, phone=phone, order=asked.order
        )
    return MessageSearch(
        customers=people,
        since=_day(asked.since, tz, end=False) if asked.since else None,
        until=_day(asked.until, tz, end=True) if asked.until else None,
        flow=asked.flow or None,
        words=words_of(asked.words),
    )


def _page(query: Any) -> int:
    text = str(query.get("page", ""))
    return min(int(text), 10_000) if text.isdigit() and int(text) > 0 else 1


@staff_page(ROLE_OF)
async def conversation_search(v: Visit) -> web.StreamResponse:
    asked = _asked(v.request.query)
    found = None
    if asked.any:
        search = await _search(v, asked)
        async with v.admin.db.reader() as uow:
            found = await search_messages(uow.session, search, _page(v.request.query))
    query = {k: v.request.query[k] for k in v.request.query if k not in ("page", "lang")}
    return v.page("conversations.html", asked=asked, found=found, flows=FLOWS, query=query)


def delivery_name(state: str | None, lang: str) -> str:
    if state is None:
        return ""
    if state.startswith("failed"):
        reason = state.partition(": ")[2] or "?"
        return translate("failed: {reason}", lang, reason=reason)
    return view._named(view.STATES, state, lang)


@staff_page(ROLE_OF)
async def conversation_page(v: Visit) -> web.StreamResponse:
    number = v.request.match_info["number"]
    if not (number.isascii() and number.isdigit()) or len(number) > 12:
        raise web.HTTPNotFound()
    async with v.admin.db.reader() as uow:
        shown = await transcript(uow.session, int(number))
    if shown is None:
        raise web.HTTPNotFound()
    return v.page("transcript.html", t=shown, delivery=lambda s: delivery_name(s, v.lang))


def _csv_line(row: dict[str, Any]) -> str:
    out = io.StringIO()
    csv.DictWriter(out, fieldnames=FIELDS).writerow(spreadsheet_safe(row))
    return out.getvalue()


@staff_page(ROLE_OF)
async def conversation_export(v: Visit) -> web.StreamResponse:
    kind = v.request.query.get("format", "csv")
    if kind not in FORMATS:
        raise web.HTTPBadRequest(text="format: csv or jsonl")
    asked = _asked(v.request.query)
    search = await _search(v, asked)
    response = web.StreamResponse(
        headers={
            **HEADERS,
            "Content-Type": f"{FORMATS[kind]}; charset=utf-8",
            "Content-Disposition": f'attachment; filename="conversations.{kind}"',
        }
    )
    await response.prepare(v.request)
    count = 0
    if kind == "csv":
        await response.write(",".join(FIELDS).encode() + b"\r\n")
    async with v.admin.db.reader() as uow:
        async for row in stream_messages(uow.session, search_clauses(uow.session, search)):
            line = _csv_line(row) if kind == "csv" else json.dumps(row, ensure_ascii=False) + "\n"
            await response.write(line.encode())
            count += 1
    await response.write_eof()
    log.info("%s exported %s messages as %s (%s)", v.user_id, count, kind, asked)
    return response
