"""Feedback themes: what a reason, a comment or a complaint is about (INTERFACE.md).

Stable names, stored with each tagged text and used as keys in ``kpi --json``; each has
a label in the four languages. ``None`` stands for a text that has no theme yet (empty,
or not tagged).
"""

from __future__ import annotations

from flows.replies import N_

THEMES: tuple[str, ...] = (
    "late_delivery",
    "early_delivery",
    "partial_delivery",
    "not_as_advertised",
    "low_quality",
    "return_exchange",
    "other_delivery",
    "other_order",
    "satisfied",
)

THEME_LABELS: dict[str, str] = {
    "late_delivery": N_("Late delivery"),
    "early_delivery": N_("Delivered early"),
    "partial_delivery": N_("Partial delivery"),
    "not_as_advertised": N_("Not as advertised"),
    "low_quality": N_("Low quality"),
    "return_exchange": N_("Return or exchange"),
    "other_delivery": N_("Other delivery issue"),
    "other_order": N_("Other order issue"),
    "satisfied": N_("Satisfied"),
}
assert tuple(THEME_LABELS) == THEMES


def is_theme(name: str) -> bool:
    return name in THEME_LABELS
