"""How tickets look to operators: list lines, details with a timeline, announcements.

Every text is a gettext message id, rendered in the operator's language (``lang``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.durations import NO_VALUE
from bot.i18n import translate
from bot.operators.kpi_view import duration
from flows.replies import N_
from flows.themes import THEME_LABELS
from storage.models import Customer, Message, Order, Ticket, TicketEvent
from storage.outbox_body import BodyButton, OutboxBody
from storage.read.ticket_context import AnswerDelivery

Rows = tuple[tuple[BodyButton, ...], ...]

TEXT_MAX = 3900  # Telegram allows 4096 characters in a message
CATEGORY = {
    "late_delivery": N_("late delivery"),
    "damaged": N_("damaged or defective"),
    "wrong_item": N_("wrong item"),
    "return": N_("return or exchange"),
    "other": N_("other"),
    "detractor": N_("detractor follow-up"),
}
STATUS = {
    "open": N_("open"),
    "waiting_customer": N_("waiting on the customer"),
    "resolved": N_("resolved, awaiting the customer's confirmation"),
    "closed": N_("closed"),
}
# What the timeline calls each ticket event (storage.tickets writes these kinds).
EVENT = {
    "opened": N_("opened"),
    "customer_message": N_("customer's message"),
    "first_response": N_("first response"),
    "reply": N_("reply"),
    "waiting_customer": N_("waiting on the customer"),
    "assigned": N_("assigned"),
    "resolved": N_("resolved"),
    "reopened": N_("reopened"),
    "closed": N_("closed"),
    "rated": N_("rated"),
}
ACTOR = {"customer": N_("the customer"), "system": N_("the system")}
NPS_OPENED = N_(" · opened by NPS {score}")
# Where an answer to the customer stands (the outbox status, then the channel's receipts).
STATES = {
    "queued": N_("queued"),
    "sent": N_("sent"),
    "delivered": N_("delivered"),
    "read": N_("read"),
    "unknown": N_("maybe delivered (the answer was lost)"),
}


def _named(names: dict[str, str], key: str, lang: str) -> str:
    return translate(names[key], lang) if key in names else key


def category(ticket: Ticket, lang: str) -> str:
    return _named(CATEGORY, ticket.category, lang)


def status(ticket: Ticket, lang: str) -> str:
    return _named(STATUS, ticket.status, lang)


def button(text: str, data: str) -> BodyButton:
    assert len(data.encode()) <= 64, data  # Telegram's callback data limit
    return BodyButton(text, data)


def rows(buttons: Iterable[Iterable[BodyButton]]) -> Rows:
    return tuple(tuple(row) for row in buttons)


def when(at: datetime | None, tz: ZoneInfo) -> str:
    return NO_VALUE if at is None else f"{at.astimezone(tz):%d/%m %H:%M}"


def who(customer: Customer | None, lang: str) -> str:
    if customer is None:
        return translate("(no customer)", lang)
    if customer.anonymised_at is not None:
        return translate("(anonymised customer)", lang)
    return f"{customer.name or translate('(no name)', lang)} ({customer.external_id})"


def clip(text: str | None, limit: int) -> str:
    text = (text or "").replace("\n", " ").strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def actions(ticket: Ticket, lang: str, *, open_button: bool = False) -> Rows:
    """The common actions on a ticket as inline buttons (callback ``op:...``)."""
    n = ticket.id
    row = [button(translate("Open #{n}", lang, n=n), f"op:t:{n}")] if open_button else []
    if ticket.status in ("open", "waiting_customer"):
        row.append(button(translate("Assign to me", lang), f"op:asg:{n}"))
        return rows([row, [button(translate("Resolve #{n}", lang, n=n), f"op:res:{n}")]])
    return rows([[*row, button(translate("Reopen #{n}", lang, n=n), f"op:reo:{n}")]])


def order_line(order: Order | None, tz: ZoneInfo, lang: str) -> str:
    if order is None:
        return translate("none named", lang)
    bought = when(order.purchased_at, tz)
    if order.delivered_at is None:
        return translate("#{order} (bought {bought})", lang, order=order.external_id, bought=bought)
    return translate(
        "#{order} (bought {bought}, delivered {delivered})",
        lang,
        order=order.external_id,
        bought=bought,
        delivered=when(order.delivered_at, tz),
    )


def list_line(ticket: Ticket, tz: ZoneInfo, lang: str) -> str:
    """One line of /tickets (no customer names: those are in the details)."""
    line = translate(
        "#{n} [{status}] {category} · opened {when}",
        lang,
        n=ticket.id,
        status=ticket.status,
        category=category(ticket, lang),
        when=when(ticket.opened_at, tz),
    )
    if ticket.assignee:
        line += translate(" · assigned to {who}", lang, who=ticket.assignee)
    return line


def _timeline_line(event: TicketEvent, tz: ZoneInfo, lang: str) -> str:
    actor = event.actor
    actor = actor[3:] if actor.startswith("op:") else _named(ACTOR, actor, lang)
    what = translate("{what} by {who}", lang, what=_named(EVENT, event.kind, lang), who=actor)
    note = f": {clip(event.note, 80)}" if event.note else ""
    return f"  {when(event.at, tz)} {what}{note}"


def details(
    ticket: Ticket,
    customer: Customer | None,
    events: Sequence[TicketEvent],
    last_messages: Sequence[Message],
    tz: ZoneInfo,
    lang: str,
    *,
    order: Order | None = None,
    nps: int | None = None,
    answer: AnswerDelivery | None = None,
) -> OutboxBody:
    def _(msgid: str, **params: str | int) -> str:  # gettext's name, for extraction
        return translate(msgid, lang, **params)

    times = _(
        "Opened {when} · first response {first} · resolution {resolution} · "
        "waiting on the customer {waiting}",
        when=when(ticket.opened_at, tz),
        first=duration(ticket.first_response_s),
        resolution=duration(ticket.resolution_s),
        waiting=duration(ticket.waiting_s),
    )
    lines = [
        " · ".join((_("Ticket #{n}", n=ticket.id), category(ticket, lang), status(ticket, lang))),
        _("Customer: {who}", who=who(customer, lang)),
        _("Order: {order}", order=order_line(order, tz, lang))
        + (_(NPS_OPENED, score=nps) if nps is not None else ""),
        _("Assigned to: {who}", who=ticket.assignee or _("nobody")),
        times + (_(" · rated {rating}/5", rating=ticket.rating) if ticket.rating else ""),
    ]
    if ticket.description:
        lines.append(_("Description: {text}", text=clip(ticket.description, 600)))
    if ticket.theme in THEME_LABELS:
        label = _(THEME_LABELS[ticket.theme])
        by_operator = ticket.theme_source == "operator"
        lines.append(
            _("Theme: {theme} (set by an operator)", theme=label)
            if by_operator
            else _("Theme: {theme} (/theme {n} NAME corrects it)", theme=label, n=ticket.id)
        )
    lines.append(_("Timeline:"))
    lines += [_timeline_line(event, tz, lang) for event in events[-15:]]
    if last_messages:
        lines.append(_("Customer's last messages:"))
        for message in last_messages:
            lines.append(f"  {when(message.at, tz)} {clip(message.text, 200)}")
    if answer is not None:
        state = answer.state
        shown = _(STATES[state]) if state in STATES else state
        if state.startswith("failed: "):
            shown = _("failed: {reason}", reason=state.removeprefix("failed: "))
        at = when(answer.at, tz)
        lines.append(_("Last answer to the customer: {state} ({when})", state=shown, when=at))
    lines.append(_("Answer with /reply {n} your text", n=ticket.id))
    return OutboxBody(fit("\n".join(lines)), actions(ticket, lang), customer_ref=about(customer))


def announcement(
    ticket: Ticket,
    customer: Customer | None,
    tz: ZoneInfo,
    lang: str,
    *,
    reopened: bool,
    nps: int | None,
) -> OutboxBody:
    n = ticket.id
    if reopened:
        head = translate(
            "🔁 Ticket #{n} was reopened: the customer says it is not solved", lang, n=n
        )
    elif ticket.source == "detractor" and nps is not None:
        head = translate("👎 Detractor follow-up, ticket #{n} (NPS {score})", lang, n=n, score=nps)
    elif ticket.source == "detractor":
        head = translate("👎 Detractor follow-up, ticket #{n}", lang, n=n)
    else:
        head = translate(
            "🆕 New ticket #{n} · {category}", lang, n=n, category=category(ticket, lang)
        )
    opened = translate("opened {when}", lang, when=when(ticket.opened_at, tz))
    lines = [head, f"{who(customer, lang)} · {opened}"]
    if ticket.description and not reopened:
        lines.append(f"“{clip(ticket.description, 300)}”")
    buttons = actions(ticket, lang, open_button=True)
    return OutboxBody("\n".join(lines), buttons, customer_ref=about(customer))


def about(customer: Customer | None) -> int | None:
    """The ``customer_ref`` of a body that shows the customer's data (``/forget`` erases
    such messages too)."""
    return customer.id if customer is not None else None


def fit(text: str) -> str:
    return text if len(text) <= TEXT_MAX else text[: TEXT_MAX - 1] + "…"
