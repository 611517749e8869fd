"""The survey's states and the question (and the reprompt) each state asks."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum

from flows.inputs import get_int
from flows.replies import N_, Say, say
from flows.state import JSONValue
from flows.survey_buttons import comment_skip_row, csat_buttons, nps_buttons, skip_row

THANKS = N_("Thank you for your answers! They help us improve.")


class Survey(Enum):
    """Where the customer stands in the survey."""

    NPS = "nps"
    REASON = "reason"
    CSAT = "csat"
    CSAT_COMMENT = "csat_comment"
    DONE = "done"


def _fid(data: Mapping[str, JSONValue]) -> int:
    fid = get_int(data, "fid")
    return fid if fid is not None else 0


def question(state: Survey, data: Mapping[str, JSONValue]) -> Say:
    """The question asked in ``state`` (with its buttons)."""
    fid = _fid(data)
    if state is Survey.NPS:
        return say(
            "How likely are you to recommend us to a friend or colleague? "
            "Tap a number from 0 (not at all likely) to 10 (extremely likely).",
            buttons=nps_buttons(fid),
        )
    if state is Survey.REASON:
        return say(
            "Thank you! What is the main reason for your score? "
            "Write it in a message, or tap Skip.",
            buttons=skip_row(fid),
        )
    if state is Survey.CSAT:
        return say(
            "And how satisfied are you with your order overall? "
            "Tap a number from 1 (very unsatisfied) to 5 (very satisfied).",
            buttons=csat_buttons(fid),
        )
    if state is Survey.CSAT_COMMENT:
        return say(
            "We are sorry to hear that. What went wrong? Write it in a message, or tap Skip.",
            buttons=comment_skip_row(fid),
        )
    return say(THANKS)


def reprompt(state: Survey, data: Mapping[str, JSONValue]) -> Say:
    """A clear answer to input the current question cannot take, repeating the buttons."""
    fid = _fid(data)
    if state is Survey.NPS:
        return say(
            "Sorry, I did not understand. Please tap a number from 0 to 10 below, or type it.",
            buttons=nps_buttons(fid),
        )
    if state is Survey.REASON:
        return say(
            "Please write the main reason for your score in a text message, or tap Skip.",
            buttons=skip_row(fid),
        )
    if state is Survey.CSAT_COMMENT:
        return say(
            "Please write what went wrong in a text message, or tap Skip.",
            buttons=comment_skip_row(fid),
        )
    return say(
        "Sorry, I did not understand. Please tap a number from 1 to 5 below, or type it.",
        buttons=csat_buttons(fid),
    )
