"""What a customer is told about an order on its way: shipped, out for delivery, a failed
delivery (and what to do), a delay past the estimated date.

A notice is news, not a question: the conversation stays where it was (a survey still
waits for its answer). The failed and the delayed notices carry a button to talk to us,
which opens a "late delivery" ticket about the order (``flows.complaint``).
"""

from __future__ import annotations

from dataclasses import dataclass

from flows.complaint import talk_to_us
from flows.replies import N_, Say, say
from flows.state import OrderRef, Outcome, State

SHIPPED = "shipped"
OUT_FOR_DELIVERY = "out_for_delivery"
DELIVERY_FAILED = "delivery_failed"
DELAYED = "delayed"
KINDS = (SHIPPED, OUT_FOR_DELIVERY, DELIVERY_FAILED, DELAYED)

# (without a tracking link, with one)
_TEXTS = {
    SHIPPED: (
        N_("Good news: your order {order} has shipped!"),
        N_("Good news: your order {order} has shipped! You can follow it here: {url}"),
    ),
    OUT_FOR_DELIVERY: (
        N_(
            "Your order {order} is out for delivery today. Please make sure someone can receive it."
        ),
        N_(
            "Your order {order} is out for delivery today. Please make sure someone can "
            "receive it. You can follow it here: {url}"
        ),
    ),
    DELIVERY_FAILED: (
        N_(
            "We could not deliver your order {order}. The carrier usually tries again on "
            "the next working day: please check that your address is complete and that "
            "someone can receive it. If you need help, tap the button below."
        ),
        N_(
            "We could not deliver your order {order}. The carrier usually tries again on "
            "the next working day: please check that your address is complete and that "
            "someone can receive it. The carrier's news: {url}\n"
            "If you need help, tap the button below."
        ),
    ),
}
DELAY = N_(
    "We are sorry: your order {order} has not arrived by the date we promised. We are "
    "following it up with the carrier. If you want to talk to us about it, tap the "
    "button below."
)
DELAY_NEW_DATE = N_(
    "We are sorry: your order {order} has not arrived by the date we promised. It is "
    "now expected by {date}. If you want to talk to us about it, tap the button below."
)


@dataclass(frozen=True)
class DeliveryNews:
    """One notice to give: its kind, the order, and what the store told us about it."""

    kind: str
    order: OrderRef
    tracking_url: str | None = None
    new_estimate: str | None = None  # a later estimated date, as the customer reads it


def delivery_notice(state: State, news: DeliveryNews) -> Outcome:
    """The notice of ``news``; whatever the customer was doing stays as it was."""
    return Outcome(state, (notice_text(news),))


def notice_text(news: DeliveryNews) -> Say:
    order = news.order.label
    if news.kind == DELAYED:
        if news.new_estimate:
            return say(
                DELAY_NEW_DATE, buttons=talk_to_us(news.order), order=order, date=news.new_estimate
            )
        return say(DELAY, buttons=talk_to_us(news.order), order=order)
    plain, tracked = _TEXTS[news.kind]
    buttons = talk_to_us(news.order) if news.kind == DELIVERY_FAILED else ()
    url = _link(news.tracking_url)
    if url is None:
        return say(plain, buttons=buttons, order=order)
    return say(tracked, buttons=buttons, order=order, url=url)


def _link(url: str | None) -> str | None:
    """A tracking link worth showing: a web address, one line."""
    if not url:
        return None
    url = url.strip()
    if not url.lower().startswith(("https://", "http://")) or any(c.isspace() for c in url):
        return None
    return url
