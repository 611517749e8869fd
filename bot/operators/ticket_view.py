"""How tickets look to operators: list lines, details with a timeline, announcements."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.operators.kpi_view import duration
from storage.models import Customer, Message, Order, Ticket, TicketEvent

TEXT_MAX = 3900  # Telegram allows 4096 characters in a message
CATEGORY = {
    "late_delivery": "late delivery",
    "damaged": "damaged or defective",
    "wrong_item": "wrong item",
    "return": "return or exchange",
    "other": "other",
    "detractor": "detractor follow-up",
}
STATUS = {
    "open": "open",
    "waiting_customer": "waiting on the customer",
    "resolved": "resolved, awaiting the customer's confirmation",
    "closed": "closed",
}


def button(text: str, data: str) -> dict[str, str]:
    assert len(data.encode()) <= 64, data  # Telegram's callback data limit
    return {"text": text, "data": data}


def when(at: datetime | None, tz: ZoneInfo) -> str:
    return "—" if at is None else f"{at.astimezone(tz):%d/%m %H:%M}"


def who(customer: Customer | None) -> str:
    if customer is None:
        return "(no customer)"
    if customer.anonymised_at is not None:
        return "(anonymised customer)"
    return f"{customer.name or '(no name)'} ({customer.external_id})"


def clip(text: str | None, limit: int) -> str:
    text = (text or "").replace("\n", " ").strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def actions(ticket: Ticket, *, open_button: bool = False) -> list[list[dict[str, str]]]:
    """The common actions on a ticket as inline buttons (callback ``op:...``)."""
    n = ticket.id
    row = [button(f"Open #{n}", f"op:t:{n}")] if open_button else []
    if ticket.status in ("open", "waiting_customer"):
        row.append(button("Assign to me", f"op:asg:{n}"))
        return [row, [button(f"Resolve #{n}", f"op:res:{n}")]]
    return [row + [button(f"Reopen #{n}", f"op:reo:{n}")]]


def order_line(order: Order | None, tz: ZoneInfo) -> str:
    if order is None:
        return "none named"
    delivered = f", delivered {when(order.delivered_at, tz)}" if order.delivered_at else ""
    return f"#{order.external_id} (bought {when(order.purchased_at, tz)}{delivered})"


def list_line(ticket: Ticket, tz: ZoneInfo) -> str:
    """One line of /tickets (no customer names: those are in the details)."""
    assignee = f" · assigned to {ticket.assignee}" if ticket.assignee else ""
    return (
        f"#{ticket.id} [{ticket.status}] {CATEGORY.get(ticket.category, ticket.category)} · "
        f"opened {when(ticket.opened_at, tz)}{assignee}"
    )


def details(
    ticket: Ticket,
    customer: Customer | None,
    events: Sequence[TicketEvent],
    last_messages: Sequence[Message],
    tz: ZoneInfo,
    *,
    order: Order | None = None,
    nps: int | None = None,
) -> dict[str, Any]:
    lines = [
        f"Ticket #{ticket.id} · {CATEGORY.get(ticket.category, ticket.category)} · "
        f"{STATUS.get(ticket.status, ticket.status)}",
        f"Customer: {who(customer)}",
        f"Order: {order_line(order, tz)}" + (f" · opened by NPS {nps}" if nps is not None else ""),
        f"Assigned to: {ticket.assignee or 'nobody'}",
        f"Opened {when(ticket.opened_at, tz)} · first response "
        f"{duration(ticket.first_response_s)} · resolution {duration(ticket.resolution_s)} · "
        f"waiting on the customer {duration(ticket.waiting_s)}"
        + (f" · rated {ticket.rating}/5" if ticket.rating else ""),
    ]
    if ticket.description:
        lines.append(f"Description: {clip(ticket.description, 600)}")
    lines.append("Timeline:")
    for event in events[-15:]:
        note = f": {clip(event.note, 80)}" if event.note else ""
        lines.append(f"  {when(event.at, tz)} {event.kind} by {event.actor}{note}")
    if last_messages:
        lines.append("Customer's last messages:")
        for message in last_messages:
            lines.append(f"  {when(message.at, tz)} {clip(message.text, 200)}")
    lines.append(f"Answer with /reply {ticket.id} your text")
    return {"text": fit("\n".join(lines)), "buttons": actions(ticket), **about(customer)}


def announcement(
    ticket: Ticket, customer: Customer | None, tz: ZoneInfo, *, reopened: bool, nps: int | None
) -> dict[str, Any]:
    if reopened:
        head = f"🔁 Ticket #{ticket.id} was reopened: the customer says it is not solved"
    elif ticket.source == "detractor":
        score = f" (NPS {nps})" if nps is not None else ""
        head = f"👎 Detractor follow-up, ticket #{ticket.id}{score}"
    else:
        head = f"🆕 New ticket #{ticket.id} · {CATEGORY.get(ticket.category, ticket.category)}"
    lines = [head, f"{who(customer)} · opened {when(ticket.opened_at, tz)}"]
    if ticket.description and not reopened:
        lines.append(f"“{clip(ticket.description, 300)}”")
    return {
        "text": "\n".join(lines),
        "buttons": actions(ticket, open_button=True),
        **about(customer),
    }


def about(customer: Customer | None) -> dict[str, int]:
    """Marks a body that shows the customer's data (``/forget`` erases such messages too)."""
    return {"customer_ref": customer.id} if customer is not None else {}


def fit(text: str) -> str:
    return text if len(text) <= TEXT_MAX else text[: TEXT_MAX - 1] + "…"
