"""Locale resolution, translation and rendering of flow replies."""

from __future__ import annotations

import pytest

from bot.i18n import LOCALES, match_locale, render, resolve_locale, translate
from flows.replies import Button, Plural, Say, button, plain_button, say
from flows.staff import forget_report
from storage.outbox_body import BodyButton


def test_our_locales_are_the_four_supported_with_brazilian_portuguese_first() -> None:
    assert LOCALES == ("pt-BR", "en", "es", "ca")


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("pt", "pt-BR"),
        ("pt-br", "pt-BR"),
        ("pt_BR", "pt-BR"),
        ("pt-PT", "pt-BR"),
        ("en", "en"),
        ("en-US", "en"),
        ("EN-gb", "en"),
        ("es", "es"),
        ("es-419", "es"),
        ("ca", "ca"),
        ("ca-ES", "ca"),
        ("de", None),
        ("", None),
        (None, None),
    ],
)
def test_telegram_language_codes_map_to_our_locales(code: str | None, expected: str | None) -> None:
    assert match_locale(code) == expected


def test_the_customers_choice_wins_over_telegram_and_the_default() -> None:
    assert resolve_locale("ca", "es-ES", "pt-BR") == "ca"
    assert resolve_locale(None, "es-ES", "pt-BR") == "es"
    assert resolve_locale(None, "de", "en") == "en"
    assert resolve_locale("xx", "yy", "zz") == "pt-BR"


def test_a_translation_fills_its_parameters() -> None:
    text = translate(
        "Thanks, I added your message to ticket #{n}. Our team will answer you here.", "pt-BR", n=12
    )
    assert (
        text
        == "Obrigado, adicionei sua mensagem ao chamado #12. Nossa equipe vai responder por aqui."
    )


def test_an_unknown_msgid_falls_back_to_the_source_text_with_parameters() -> None:
    assert translate("Not in any catalog {x}", "es", x=1) == "Not in any catalog 1"


def test_a_missing_parameter_is_left_visible_instead_of_failing() -> None:
    assert translate("Ticket #{n} and {m}", "en", n=1) == "Ticket #1 and {m}"


def test_render_translates_text_and_button_labels_but_not_plain_labels() -> None:
    message = say(
        "What is the problem about?",
        buttons=((button("Late delivery", "cat:late_delivery"), plain_button("7", "nps:1:7")),),
    )
    assert render(message, "es").to_json() == {
        "text": "¿De qué trata el problema?",
        "buttons": [
            [
                {"text": "Entrega con retraso", "data": "cat:late_delivery"},
                {"text": "7", "data": "nps:1:7"},
            ]
        ],
    }


def test_render_of_a_phone_request_carries_a_translated_button_label() -> None:
    body = render(Say("I can only read text messages.", request_contact=True), "ca")
    assert body.request_contact is True
    assert body.contact_label == "Compartir el meu número de telèfon"


def test_verbatim_text_is_not_translated() -> None:
    body = render(Say("Cancel", verbatim=True, buttons=((Button("Skip", "x"),),)), "pt-BR")
    assert body.text == "Cancel"
    assert body.buttons == ((BodyButton("Pular", "x"),),)


def test_remove_keyboard_is_passed_on() -> None:
    assert render(say("Cancel", remove_keyboard=True), "en").remove_keyboard is True


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        (
            "en",
            ["Removed: 1 chat link.", "the text of 0 messages.", "2 survey answers and 1 ticket."],
        ),
        ("pt-BR", ["1 vínculo de conversa", "o texto de 0 mensagem.", "2 respostas de pesquisa"]),
        (
            "es",
            [
                "1 vínculo de chat",
                "el texto de 0 mensajes.",
                "2 respuestas de encuesta y 1 incidencia.",
            ],
        ),
        (
            "ca",
            [
                "1 vincle de xat",
                "el text de 0 missatges.",
                "2 respostes d'enquesta i 1 incidència.",
            ],
        ),
    ],
)
def test_the_forget_report_words_each_count_in_its_plural_form(
    locale: str, expected: list[str]
) -> None:
    text = render(forget_report(chats=1, messages=0, answers=2, tickets=1), locale).text
    assert [part for part in expected if part not in text] == []
    assert "(s)" not in text and "(ns)" not in text and "(es)" not in text


def test_a_plural_parameter_of_an_unknown_message_still_counts_in_english() -> None:
    told = say("Found {what}.", what=Plural("{n} box", "{n} boxes", 3))
    assert render(told, "pt-BR").text == "Found 3 boxes."
