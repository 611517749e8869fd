"""How the themes of ``kpi --json`` (``storage.read.theme_kpi``) read in the chat.

Labels are ``flows.themes``' in the operator's language; shares and changes keep one
notation in every language (``48.0%``, ``▲ +9.0 pp``).
"""

from __future__ import annotations

from typing import Any

from bot.i18n import translate
from bot.operators.kpi_format import number
from flows.replies import N_
from flows.themes import THEME_LABELS, THEMES

TOP = 3
GROUP_HEADINGS: dict[str, str] = {
    "detractors": N_("Detractors (NPS 0-6):"),
    "passives": N_("Passives (NPS 7-8):"),
    "promoters": N_("Promoters (NPS 9-10):"),
    "csat_low": N_("CSAT 1-2:"),
}
THEMES_DEF = N_(
    "• Themes = share of each theme among the answers of a group (detractors, passives, "
    "promoters, CSAT 1-2) that have a theme; ▲/▼ in percentage points."
)


def label(name: str | None, lang: str) -> str:
    if name is None:
        return translate("no theme", lang)
    return translate(THEME_LABELS[name], lang) if name in THEME_LABELS else name


def points(change_pts: float | None) -> str:
    """`` ▲ +9.0 pp``, `` ▼ -3.0 pp``, `` =``; empty when there is nothing to compare."""
    if change_pts is None:
        return ""
    if change_pts == 0:
        return " ="
    return f" {'▲' if change_pts > 0 else '▼'} {change_pts:+.1f} pp"


def _share(name: str, figure: dict[str, Any], lang: str) -> str:
    return (
        f"{label(name, lang)} {number(figure['share_pct'], 1, '%')}{points(figure['change_pts'])}"
    )


def top_line(themes: dict[str, Any] | None, lang: str) -> str:
    """/kpi: the detractors' three most frequent themes; empty when none has a theme."""
    detractors: dict[str, Any] = (themes or {}).get("detractors") or {}
    if not detractors:
        return ""
    top = " · ".join(_share(name, f, lang) for name, f in list(detractors.items())[:TOP])
    return translate("Detractors' top themes: {themes}", lang, themes=top)


def all_groups(themes: dict[str, Any], title: str, lang: str) -> str:
    """/kpi themes: every group, every theme with its share, count and change."""
    lines = [translate("🏷 Themes, {title} (▲▼ vs the previous period)", lang, title=title)]
    for group, heading in GROUP_HEADINGS.items():
        lines.append(translate(heading, lang))
        found: dict[str, Any] = themes.get(group) or {}
        if not found:
            lines.append("  " + translate("no answers with a theme", lang))
        for name, f in found.items():
            lines.append(f"  {_share(name, f, lang)} ({f['count']})")
    lines.append(translate(THEMES_DEF, lang))
    return "\n".join(lines)


def theme_list(lang: str) -> str:
    """Every theme name with its label, one a line (what ``/theme`` accepts)."""
    return "\n".join(f"  {name} - {label(name, lang)}" for name in THEMES)
