"""The settings of the delivery notices (INTERFACE.md).

A mix-in of ``bot.settings.Settings``. Each notice can be turned off on its own; all are
on by default, since a store that sends delivery news wants its customers to hear it.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field
from pydantic_settings import BaseSettings

from bot.durations import Duration


class NoticeSettings(BaseSettings):
    """Which delivery notices go to customers, and for how long news is worth telling."""

    notice_shipped: bool = True  # with the tracking link when the store gives one
    notice_out_for_delivery: bool = True
    notice_delivery_failed: bool = True  # what to do, and a button to talk to us
    # The estimated date passed without delivery: an apology, the new date if the store
    # set one, and a button that opens a "late delivery" ticket.
    notice_delay: bool = True
    # News older than this is recorded and never told (an import of old orders, a bot that
    # was down for days): "shipped" a week late helps nobody.
    notice_max_age: Duration = Field(default=timedelta(days=2), gt=timedelta(0))
    # The approved template a notice goes as outside WhatsApp's 24-hour window.
    whatsapp_template_notice: str = "postsale_notice"

    @property
    def notice_kinds(self) -> tuple[str, ...]:
        """The status notices turned on (``delayed`` is ``notice_delay``)."""
        chosen = {
            "shipped": self.notice_shipped,
            "out_for_delivery": self.notice_out_for_delivery,
            "delivery_failed": self.notice_delivery_failed,
        }
        return tuple(kind for kind, on in chosen.items() if on)
