"""The satisfaction survey: NPS 0-10, the main reason (skippable), CSAT 1-5, thanks.

A CSAT of 1 or 2 is followed by one more (skippable) question, what went wrong: its
answer is the CSAT answer's comment, and gets a theme like an NPS reason does.

Detractors (0-6) get a follow-up ticket once their reason is known; promoters (9-10)
are asked for a review (``AskForReview``: the engine knows the store and its link).
Every button carries the follow-up id, so a button of another survey, or one pressed
twice, records nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from flows.effects import AskForReview, CompleteSurvey, OpenTicket, RecordReason, RecordScore
from flows.events import ButtonIn, Event, TextIn
from flows.inputs import get_int, get_str, parse_score
from flows.machine import FlowMachine, Step
from flows.replies import N_, Say, say
from flows.spec import ButtonRoute, FlowSpec, held
from flows.state import Facts, JSONValue, OrderRef, Outcome, State
from flows.survey_buttons import BUTTON_KINDS, nps_buttons
from flows.survey_buttons import survey_button as survey_button  # engine.keyboards reads it here
from flows.survey_questions import THANKS, Survey, question, reprompt

FLOW = "survey"
REASON_MAX = 2000  # a reason is a sentence or two; keep a pasted essay bounded


TRANSITIONS = [
    {"trigger": "score_nps", "source": Survey.NPS, "dest": Survey.REASON, "after": "on_nps"},
    {"trigger": "give_reason", "source": Survey.REASON, "dest": Survey.CSAT, "after": "on_reason"},
    {"trigger": "skip_reason", "source": Survey.REASON, "dest": Survey.CSAT, "after": "on_skip"},
    {
        "trigger": "score_csat",
        "source": Survey.CSAT,
        "dest": Survey.CSAT_COMMENT,
        "conditions": "is_low_csat",
        "after": "on_low_csat",
    },
    {"trigger": "score_csat", "source": Survey.CSAT, "dest": Survey.DONE, "after": "on_csat"},
    {
        "trigger": "give_reason",
        "source": Survey.CSAT_COMMENT,
        "dest": Survey.DONE,
        "after": "on_comment",
    },
    {
        "trigger": "skip_comment",
        "source": Survey.CSAT_COMMENT,
        "dest": Survey.DONE,
        "after": "thank",
    },
]
CSAT_LOW = 2  # 1-2: the customer is asked what went wrong


class SurveyStep(Step[Survey]):
    """One survey step."""

    @property
    def fid(self) -> int | None:
        return get_int(self.data, "fid")

    def on_nps(self, score: int) -> None:
        self.data["nps"] = score
        self.effect(RecordScore("nps", score, self.fid))
        self.reply(question(self.state, self.data))

    def on_reason(self, text: str) -> None:
        self.effect(RecordReason(self.fid, text))
        self._after_reason(text)

    def on_skip(self) -> None:
        self._after_reason(None)

    def _after_reason(self, reason: str | None) -> None:
        nps = get_int(self.data, "nps")
        if nps is not None and nps <= 6:
            order = get_int(self.data, "order")
            self.effect(OpenTicket("detractor", "detractor", order, reason))
            self.reply(
                say(
                    "We are sorry your experience was not good. We opened ticket #{n} "
                    "and our team will contact you here.",
                    n="$ticket",
                )
            )
        self.reply(question(self.state, self.data))

    def is_low_csat(self, score: int) -> bool:
        return score <= CSAT_LOW

    def _record_csat(self, score: int) -> None:
        self.effect(RecordScore("csat", score, self.fid))
        fid = self.fid
        if fid is not None:
            self.effect(CompleteSurvey(fid))

    def on_csat(self, score: int) -> None:
        self._record_csat(score)
        self.thank()
        nps = get_int(self.data, "nps")
        if nps is not None and nps >= 9:
            self.effect(AskForReview(get_int(self.data, "order")))

    def on_low_csat(self, score: int) -> None:
        # The survey counts as answered now: the comment is a bonus, and an unanswered
        # one must not bring a reminder.
        self._record_csat(score)
        self.reply(question(self.state, self.data))

    def on_comment(self, text: str) -> None:
        self.effect(RecordReason(self.fid, text, kind="csat"))
        self.thank()

    def thank(self) -> None:
        self.reply(say(THANKS))


REVIEW = N_(
    "We are very glad you liked it! If you have a minute, a review of your order at "
    "{store} would help other customers, and we would love it if you told your friends "
    "about us."
)
REVIEW_AT = N_(
    "We are very glad you liked it! If you have a minute, a review of your order at "
    "{store} would help other customers: {url}\nAnd we would love it if you told your "
    "friends about us."
)
OUR_STORE = N_("our store")


def review_request(store: str, url: str | None) -> Say:
    """The promoter's review request: the store by name (``STORE_NAME``), and a link if known."""
    return say(REVIEW_AT, store=store, url=url) if url else say(REVIEW, store=store)


MACHINE = FlowMachine(FLOW, Survey, TRANSITIONS, Survey.NPS)
STATES = frozenset(s.value for s in Survey if s is not Survey.DONE)


CLOSED = N_("This survey is closed or was already answered. Thank you!")


def start(followup_id: int, order: OrderRef) -> Outcome:
    """The invitation: a new survey replaces whatever stood before."""
    data: dict[str, JSONValue] = {"fid": followup_id, "order": order.id, "label": order.label}
    invitation = say(
        "Hello! Your order {order} was delivered. How likely are you to recommend us to a "
        "friend or colleague? Tap a number from 0 (not at all likely) to 10 (extremely likely).",
        buttons=nps_buttons(followup_id),
        order=order.label,
    )
    return Outcome(State(FLOW, Survey.NPS.value, data), (invitation,), ())


def awaiting(state: State, followup_id: int) -> bool:
    """Whether ``state`` is this follow-up's survey, still waiting for an answer."""
    return (
        state.flow == FLOW and state.state in STATES and get_int(state.data, "fid") == followup_id
    )


def remind(state: State) -> Outcome:
    """Ask the current question again, with a short reminder first."""
    current = MACHINE.parse(state.state) or Survey.NPS
    label = get_str(state.data, "label") or ""
    return Outcome(
        state,
        (
            say("A quick reminder: we would love to hear about your order {order}.", order=label),
            question(current, state.data),
        ),
        (),
    )


_TRIGGER_OF = {
    "nps": "score_nps",
    "skip": "skip_reason",
    "csat": "score_csat",
    "cskip": "skip_comment",
}
_STATE_OF = {
    "nps": Survey.NPS,
    "skip": Survey.REASON,
    "csat": Survey.CSAT,
    "cskip": Survey.CSAT_COMMENT,
}
_TEXT_ANSWERS = (Survey.REASON, Survey.CSAT_COMMENT)
_RANGE = {"nps": (0, 10), "csat": (1, 5)}


def handle(state: State, event: Event, facts: Facts, now: datetime) -> Outcome:
    """One customer event while the survey waits for an answer."""
    current = MACHINE.parse(state.state) or Survey.NPS
    model = SurveyStep(current, dict(state.data), facts, now)
    if isinstance(event, ButtonIn):
        _button(model, event.data)
    elif isinstance(event, TextIn):
        _text(model, event.text)
    else:  # media, contacts, commands that reached the flow
        model.reply(reprompt(current, model.data))
    if model.state is Survey.DONE:
        return Outcome(State(), tuple(model.replies), tuple(model.effects))
    return model.outcome(FLOW)


def _button(model: SurveyStep, data: str) -> None:
    parsed = survey_button(data)
    if parsed is None:
        model.reply(reprompt(model.state, model.data))
        return
    kind, fid, score = parsed
    if fid != model.fid:
        model.reply(say(CLOSED))
        return
    if _STATE_OF[kind] is not model.state:
        model.reply(say("You have already answered this question."))
        model.reply(question(model.state, model.data))
        return
    if score is not None:
        low, high = _RANGE[kind]
        if not low <= score <= high:
            model.reply(reprompt(model.state, model.data))
            return
        MACHINE.fire(model, _TRIGGER_OF[kind], score)
    else:
        MACHINE.fire(model, _TRIGGER_OF[kind])


def _text(model: SurveyStep, text: str) -> None:
    if model.state in _TEXT_ANSWERS:
        reason = text.strip()[:REASON_MAX]
        if reason:
            MACHINE.fire(model, "give_reason", reason)
        else:
            model.reply(reprompt(model.state, model.data))
        return
    kind = "nps" if model.state is Survey.NPS else "csat"
    score = parse_score(text, *_RANGE[kind])
    if score is None:
        model.reply(reprompt(model.state, model.data))
    else:
        MACHINE.fire(model, _TRIGGER_OF[kind], score)


def prompt(state: str, data: Mapping[str, JSONValue], facts: Facts | None = None) -> Say:
    """The question pending in ``state`` (used when the survey resumes)."""
    return question(MACHINE.parse(state) or Survey.NPS, data)


def _elsewhere(state: State, event: ButtonIn, facts: Facts, now: datetime) -> Outcome | None:
    """A survey button while another flow interrupted the survey, or after it."""
    parsed = survey_button(event.data)
    if parsed is None:
        return None
    suspended = held(state)
    if suspended is not None and awaiting(suspended, parsed[1]):
        return handle(suspended, event, facts, now)  # back to the survey
    return Outcome(state, (say(CLOSED),))


SPEC = FlowSpec(
    FLOW,
    STATES,
    handle,
    prompt,
    buttons=tuple(ButtonRoute(kind, _elsewhere, owner=FLOW) for kind in BUTTON_KINDS),
)
