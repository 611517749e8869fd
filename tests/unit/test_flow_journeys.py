"""Scripted journeys through every flow, rendered in each of the four languages."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.i18n import LOCALES, render
from flows import (
    ButtonIn,
    CommandIn,
    ContactIn,
    Facts,
    OrderRef,
    Outcome,
    Say,
    SetLocale,
    State,
    TextIn,
    ask_resolution,
    start_survey,
    step,
)
from flows.events import Event
from storage.outbox_body import OutboxBody

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
ORDERS = (OrderRef(31, "#A31 (08/03)"), OrderRef(30, "#A30 (01/02)"))
LINKED = Facts(linked=True, customer_name="Ana", orders=ORDERS)
TICKET = 42  # what the engine would put for "$ticket"

EXPECT: dict[str, dict[str, str]] = {
    "pt-BR": {
        "invitation": "Qual a probabilidade de você nos recomendar",
        "detractor": "Abrimos o chamado #42",
        "thanks": "Obrigado pelas suas respostas",
        "went_wrong": "O que deu errado?",
        "category": "Atraso na entrega",
        "opened": "Abrimos o chamado #42",
        "solved?": "marcou o chamado #7 como resolvido",
        "yes": "Sim, foi resolvido",
        "rated": "Obrigado pela sua avaliação",
        "reopened": "O chamado #7 foi reaberto",
        "welcome": "Boas-vindas, Ana!",
        "invalid": "Este link não é válido",
        "used": "Este link já foi usado",
        "unlinked": "ainda não está vinculada",
        "contact": "Compartilhar meu número de telefone",
        "help": "/problem - relatar um problema",
        "language": "escrever para você em português",
        "deleted": "Seus dados foram apagados",
        "stopped": "não vamos mais enviar pesquisas",
    },
    "en": {
        "invitation": "How likely are you to recommend us",
        "detractor": "We opened ticket #42",
        "thanks": "Thank you for your answers",
        "went_wrong": "What went wrong?",
        "category": "Late delivery",
        "opened": "We opened ticket #42",
        "solved?": "marked ticket #7 as solved",
        "yes": "Yes, it is solved",
        "rated": "Thank you for your rating",
        "reopened": "Ticket #7 is open again",
        "welcome": "Welcome, Ana!",
        "invalid": "This link is not valid",
        "used": "This link was already used",
        "unlinked": "not linked to your customer account yet",
        "contact": "Share my phone number",
        "help": "/problem - report a problem",
        "language": "write to you in English",
        "deleted": "Your data has been deleted",
        "stopped": "we will not send you surveys",
    },
    "es": {
        "invitation": "nos recomiendes a un amigo",
        "detractor": "Hemos abierto la incidencia #42",
        "thanks": "Gracias por tus respuestas",
        "went_wrong": "¿Qué salió mal?",
        "category": "Entrega con retraso",
        "opened": "Hemos abierto la incidencia #42",
        "solved?": "marcado la incidencia #7 como resuelta",
        "yes": "Sí, está resuelto",
        "rated": "Gracias por tu valoración",
        "reopened": "La incidencia #7 vuelve a estar abierta",
        "welcome": "Te damos la bienvenida, Ana!",
        "invalid": "Este enlace no es válido",
        "used": "Este enlace ya se ha usado",
        "unlinked": "todavía no está vinculado",
        "contact": "Compartir mi número de teléfono",
        "help": "/problem - informar de un problema",
        "language": "te escribiré en español",
        "deleted": "Tus datos se han eliminado",
        "stopped": "ya no te enviaremos encuestas",
    },
    "ca": {
        "invitation": "ens recomanis a un amic",
        "detractor": "Hem obert la incidència #42",
        "thanks": "Gràcies per les teves respostes",
        "went_wrong": "Què ha anat malament?",
        "category": "Lliurament amb retard",
        "opened": "Hem obert la incidència #42",
        "solved?": "marcat la incidència #7 com a resolta",
        "yes": "Sí, està resolt",
        "rated": "Gràcies per la teva valoració",
        "reopened": "La incidència #7 torna a estar oberta",
        "welcome": "Et donem la benvinguda, Ana!",
        "invalid": "Aquest enllaç no és vàlid",
        "used": "Aquest enllaç ja s'ha fet servir",
        "unlinked": "encara no està vinculat",
        "contact": "Compartir el meu número de telèfon",
        "help": "/problem - informar d'un problema",
        "language": "t'escriuré en català",
        "deleted": "Les teves dades s'han esborrat",
        "stopped": "ja no t'enviarem enquestes",
    },
}


class Chat:
    """Drives the flows like the engine does and renders the replies in one locale."""

    def __init__(self, locale: str, facts: Facts = LINKED) -> None:
        self.locale = locale
        self.facts = facts
        self.state = State()
        self.effects: list[object] = []

    def take(self, outcome: Outcome) -> list[OutboxBody]:
        self.state = outcome.state
        self.effects.extend(outcome.effects)
        assert outcome.replies
        return [render(_substitute(say), self.locale) for say in outcome.replies]

    def send(self, event: Event, **facts: Any) -> list[OutboxBody]:
        return self.take(step(self.state, event, replace(self.facts, **facts), NOW))

    @staticmethod
    def text(bodies: list[OutboxBody]) -> str:
        return "\n".join(b.text for b in bodies)

    @staticmethod
    def labels(bodies: list[OutboxBody]) -> list[str]:
        return [b.text for body in bodies for row in body.buttons for b in row]


def _substitute(say: Say) -> Say:
    params = tuple((k, TICKET if v == "$ticket" else v) for k, v in say.params)
    return replace(say, params=params)


@pytest.fixture(params=LOCALES)
def locale(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_a_detractor_survey_reads_naturally(locale: str) -> None:
    chat, words = Chat(locale), EXPECT[locale]
    invitation = chat.take(start_survey(chat.state, 5, ORDERS[0], NOW))
    assert words["invitation"] in chat.text(invitation)
    assert ORDERS[0].label in chat.text(invitation)
    chat.send(ButtonIn("nps:5:2"))
    assert words["detractor"] in chat.text(chat.send(TextIn("late and broken")))
    assert words["went_wrong"] in chat.text(chat.send(TextIn("1")))
    assert words["thanks"] in chat.text(chat.send(TextIn("the box was wet")))
    assert chat.state == State()


def test_a_complaint_about_one_of_several_orders_reads_naturally(locale: str) -> None:
    chat, words = Chat(locale), EXPECT[locale]
    assert words["category"] in chat.labels(chat.send(CommandIn("problem")))
    assert ORDERS[1].label in chat.labels(chat.send(ButtonIn("cat:late_delivery")))
    described = chat.send(ButtonIn(f"ord:{ORDERS[1].id}"))
    assert ORDERS[1].label in chat.text(described)
    assert words["opened"] in chat.text(chat.send(TextIn("It never arrived")))


def test_a_resolved_ticket_is_confirmed_and_rated(locale: str) -> None:
    chat, words = Chat(locale), EXPECT[locale]
    asked = chat.take(ask_resolution(chat.state, 7, NOW))
    assert words["solved?"] in chat.text(asked)
    assert words["yes"] in chat.labels(asked)
    rating = chat.send(ButtonIn("res:7:yes"))
    assert [label[0] for label in chat.labels(rating)] == ["1", "2", "3", "4", "5"]
    assert words["rated"] in chat.text(chat.send(ButtonIn("rate:7:5")))


def test_an_unsolved_ticket_is_reopened(locale: str) -> None:
    chat, words = Chat(locale), EXPECT[locale]
    chat.take(ask_resolution(chat.state, 7, NOW))
    assert words["reopened"] in chat.text(chat.send(ButtonIn("res:7:no")))


def test_linking_answers_read_naturally(locale: str) -> None:
    words = EXPECT[locale]
    chat = Chat(locale, Facts(linked=False))
    unlinked = chat.send(TextIn("hi"))
    assert words["unlinked"] in chat.text(unlinked)
    assert unlinked[0].request_contact and unlinked[0].contact_label == words["contact"]
    assert words["invalid"] in chat.text(chat.send(CommandIn("start", "x"), link="unknown"))
    assert words["used"] in chat.text(chat.send(CommandIn("start", "x"), link="used"))
    welcome = chat.send(
        ContactIn("+5511999990000"), linked=True, customer_name="Ana", link="linked"
    )
    assert words["welcome"] in chat.text(welcome) and welcome[0].remove_keyboard


def test_account_commands_read_naturally(locale: str) -> None:
    chat, words = Chat(locale), EXPECT[locale]
    assert words["help"] in chat.text(chat.send(CommandIn("help")))
    assert "Español" in chat.labels(chat.send(CommandIn("language")))
    assert words["stopped"] in chat.text(chat.send(CommandIn("stop")))
    chat.send(CommandIn("forget"))
    assert words["deleted"] in chat.text(chat.send(ButtonIn("forget:yes")))


@pytest.mark.parametrize("chosen", LOCALES)
def test_the_language_confirmation_is_written_in_the_chosen_language(chosen: str) -> None:
    outcome = step(State(), ButtonIn(f"lang:{chosen}"), LINKED, NOW)
    assert outcome.effects == (SetLocale(chosen),)
    # The engine applies SetLocale before rendering, so the reply uses the new locale.
    assert EXPECT[chosen]["language"] in render(outcome.replies[0], chosen).text
