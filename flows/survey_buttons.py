"""The survey's buttons: their data carries the follow-up id (and the score), so a button
of another survey, or one pressed twice, is told apart."""

from __future__ import annotations

from flows.inputs import as_int
from flows.replies import Button, button, plain_button


def nps_buttons(fid: int) -> tuple[tuple[Button, ...], ...]:
    """0-5 on the first row, 6-10 on the second."""
    return tuple(
        tuple(plain_button(str(n), f"nps:{fid}:{n}") for n in row)
        for row in (range(0, 6), range(6, 11))
    )


BUTTON_KINDS = ("nps", "csat", "skip", "cskip")  # cskip: skip the low CSAT's comment


def skip_row(fid: int) -> tuple[tuple[Button, ...], ...]:
    skip = button("Skip", f"skip:{fid}")
    return ((skip,),)


def comment_skip_row(fid: int) -> tuple[tuple[Button, ...], ...]:
    """Its own kind, so the reason's Skip left on an older message cannot skip the comment."""
    skip = button("Skip", f"cskip:{fid}")
    return ((skip,),)


CSAT_FACES = ("😠", "🙁", "😐", "🙂", "😍")


def csat_buttons(fid: int) -> tuple[tuple[Button, ...], ...]:
    return (
        tuple(plain_button(f"{n} {CSAT_FACES[n - 1]}", f"csat:{fid}:{n}") for n in range(1, 6)),
    )


def survey_button(data: str) -> tuple[str, int, int | None] | None:
    """``(kind, followup_id, score)`` of a survey button, or None for other data."""
    kind, _, rest = data.partition(":")
    if kind not in BUTTON_KINDS:
        return None
    fields = rest.split(":")
    fid = as_int(fields[0])
    if fid is None:
        return None
    if kind in ("skip", "cskip"):
        return (kind, fid, None) if len(fields) == 1 else None
    score = as_int(fields[1]) if len(fields) == 2 else None
    return None if score is None else (kind, fid, score)
