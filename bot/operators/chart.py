"""The NPS and CSAT by week chart of /kpi: data in the outbox body, a PNG at send time.

Beside the weeks, when the period's detractors gave reasons with a theme, a bar per
theme shows its share of them (``kpi --json``'s ``themes.detractors``), so the image
says what the unhappy customers were unhappy about, not only how many they were.

The /kpi command reads ``weekly_scores`` inside its transaction and puts the plotted
numbers in the outbox body (``{"chart": {...}}``), so the chart shows exactly what
the summary was computed from and the transaction never waits on matplotlib. When
the message is sent, ``materialize_attachments`` renders the PNG (Agg, off the event
loop) under ``DATA_DIR/charts`` and adds its ``photo_path``; the file name is a hash
of the data, so a retried send reuses it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
from pathlib import Path
from typing import Any

from bot.i18n import translate
from bot.operators import theme_view
from bot.settings import Settings
from flows.replies import N_
from storage.outbox_body import OutboxBody

KIND = "weekly_scores"
WIDTH_PX, HEIGHT_PX, DPI = 900, 500, 100
THEMES_TITLE = N_("Detractors' themes")
THEMES_AXIS = N_("% of their answers with a theme")
# The axes in the operator's language, written into the spec like the title.
AXES = {
    "nps_axis": N_("NPS (-100 to 100)"),
    "csat_axis": N_("CSAT (1 to 5)"),
    "weeks_axis": N_("week starting (MM-DD)"),
}


def chart_spec(
    weeks: list[Any], title: str, detractors: dict[str, Any] | None = None, lang: str = "en"
) -> dict[str, Any]:
    """The JSON chart description of ``weekly_scores`` rows (``WeekScore``) and, when
    given, of the detractors' themes (``theme_kpis``' ``detractors``: name -> figures)."""
    spec: dict[str, Any] = {
        "kind": KIND,
        "title": title,
        "weeks": [_week_start(w).isoformat() for w in weeks],
        "nps": [_num(w.nps) for w in weeks],
        "nps_responses": [int(w.nps_responses) for w in weeks],
        "csat": [_num(w.csat) for w in weeks],
        "csat_responses": [int(w.csat_responses) for w in weeks],
        **{key: translate(text, lang) for key, text in AXES.items()},
    }
    if detractors:
        spec["themes_title"] = translate(THEMES_TITLE, lang)
        spec["themes_axis"] = translate(THEMES_AXIS, lang)
        spec["themes"] = [
            {
                "theme": name,
                "label": theme_view.label(name, lang),
                "share_pct": float(f["share_pct"]),
                "count": int(f["count"]),
            }
            for name, f in detractors.items()
        ]
    return spec


def theme_shares(spec: dict[str, Any]) -> list[tuple[str, float]]:
    """The bars the chart draws: (theme name, share of detractors in %), largest first."""
    found = [(str(t["theme"]), float(t["share_pct"])) for t in spec.get("themes") or ()]
    return sorted(found, key=lambda pair: -pair[1])


def _week_start(week: Any) -> Any:
    start = week.week_start
    return start.date() if hasattr(start, "date") and callable(start.date) else start


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def _nan(values: list[float | None]) -> list[float]:
    return [math.nan if v is None else float(v) for v in values]


def build_figure(spec: dict[str, Any]) -> Any:
    """A matplotlib ``Figure`` of the spec (no pyplot: no global state, thread-safe)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    if spec.get("themes"):
        cells: Any = fig.add_gridspec(1, 2, width_ratios=(3, 2))
        ax = fig.add_subplot(cells[0, 0])
        _theme_bars(fig.add_subplot(cells[0, 1]), spec)
    else:
        ax = fig.add_subplot()
    labels = [w[5:] for w in spec["weeks"]]  # MM-DD of each week's Monday
    x = list(range(len(labels)))
    ax.plot(x, _nan(spec["nps"]), marker="o", color="tab:blue", label="NPS")
    ax.set_ylim(-108, 108)  # a margin, so points at the limits stay visible
    ax.set_ylabel(spec.get("nps_axis") or AXES["nps_axis"], color="tab:blue")
    ax.axhline(0, color="0.8", linewidth=0.8)
    ax.set_xticks(x, labels, rotation=45, ha="right", fontsize=8)
    ax.set_xlabel(spec.get("weeks_axis") or AXES["weeks_axis"])
    right = ax.twinx()
    right.plot(x, _nan(spec["csat"]), marker="s", color="tab:orange", label="CSAT")
    right.set_ylim(0.8, 5.2)
    right.set_ylabel(spec.get("csat_axis") or AXES["csat_axis"], color="tab:orange")
    ax.set_title(spec.get("title") or "NPS and CSAT by week")
    handles = ax.get_lines()[:1] + right.get_lines()[:1]
    ax.legend(handles, ["NPS", "CSAT"], loc="lower left", fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return fig


def _theme_bars(ax: Any, spec: dict[str, Any]) -> None:
    labels = {str(t["theme"]): str(t["label"]) for t in spec["themes"]}
    shares = theme_shares(spec)[::-1]  # barh draws bottom-up: the largest ends on top
    y = list(range(len(shares)))
    ax.barh(y, [share for _, share in shares], color="tab:red")
    ax.set_yticks(y, [labels[name] for name, _ in shares], fontsize=8)
    ax.set_xlim(0, 100)
    ax.set_xlabel(spec.get("themes_axis") or "%")
    for i, (_, share) in enumerate(shares):
        ax.text(min(share + 1, 88), i, f"{share:.0f}%", va="center", fontsize=8)
    ax.set_title(spec.get("themes_title") or "", fontsize=9)
    ax.grid(axis="x", alpha=0.3)


def chart_path(spec: dict[str, Any], data_dir: str) -> Path:
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:20]
    return Path(data_dir) / "charts" / f"kpi-{digest}.png"


def render_chart(spec: dict[str, Any], path: Path) -> Path:
    """Write the PNG (blocking: call it through ``asyncio.to_thread``)."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    fig = build_figure(spec)
    partial = path.with_suffix(".tmp.png")
    fig.savefig(partial, format="png", dpi=DPI)
    partial.replace(path)  # a reader never sees half a file
    return path


async def materialize_attachments(db: Any, body: OutboxBody, settings: Settings) -> OutboxBody:
    """The body to send: a ``chart`` becomes a rendered ``photo_path``; others unchanged."""
    spec = body.chart
    if spec is None or body.photo_path or spec.get("kind") != KIND:
        return body
    path = await asyncio.to_thread(
        render_chart, dict(spec), chart_path(dict(spec), settings.data_dir)
    )
    return body.with_photo(str(path))


__all__ = [
    "build_figure",
    "chart_path",
    "chart_spec",
    "materialize_attachments",
    "render_chart",
    "theme_shares",
]
