"""Outgoing messages rendered as Cloud API message objects, and Graph errors mapped."""

from __future__ import annotations

import pytest

from bot.channels.port import (
    ChatRetryAfter,
    Forbidden,
    Halted,
    OutButton,
    Outgoing,
    Rejected,
    RetryAfter,
    Transient,
)
from bot.channels.whatsapp import outbound
from bot.channels.whatsapp.errors import GraphError, neutral_error, read_error, window_closed
from bot.channels.whatsapp.window import ChatWindow
from tests.fakes.cloud_api import error_object

TO = "5511987654321"


def buttons(*labels: str) -> tuple[tuple[OutButton, ...], ...]:
    return (tuple(OutButton(label, f"b:{n}") for n, label in enumerate(labels)),)


def test_a_text_is_one_text_message_without_a_link_preview() -> None:
    [message] = outbound.free_form(Outgoing(TO, "Your order shipped"), "Choose")
    assert message == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": TO,
        "type": "text",
        "text": {"preview_url": False, "body": "Your order shipped"},
    }


def test_a_long_text_is_split_at_4096_between_words() -> None:
    text = " ".join(["word"] * 2000)  # 9999 characters
    parts = outbound.split_text(text)
    assert len(parts) == 3 and all(len(p) <= 4096 for p in parts)
    assert " ".join(parts) == text
    assert outbound.split_text("x" * 5000) == ["x" * 4096, "x" * 904]


def test_up_to_three_short_labels_are_reply_buttons() -> None:
    message = Outgoing(TO, "Solved?", buttons=buttons("Yes", "No"))
    [sent] = outbound.free_form(message, "Choose")
    content = sent["interactive"]
    assert content["type"] == "button" and content["body"] == {"text": "Solved?"}
    assert content["action"]["buttons"] == [
        {"type": "reply", "reply": {"id": "b:0", "title": "Yes"}},
        {"type": "reply", "reply": {"id": "b:1", "title": "No"}},
    ]


@pytest.mark.parametrize(
    "labels",
    [("0", "1", "2", "3"), ("Yes", "A label longer than twenty")],
)
def test_more_buttons_or_a_long_label_make_a_list(labels: tuple[str, ...]) -> None:
    [sent] = outbound.free_form(Outgoing(TO, "Pick", buttons=buttons(*labels)), "Escolher")
    content = sent["interactive"]
    assert content["type"] == "list" and content["action"]["button"] == "Escolher"
    [section] = content["action"]["sections"]
    assert [r["id"] for r in section["rows"]] == [f"b:{n}" for n in range(len(labels))]


def test_a_row_title_is_cut_at_24_and_given_whole_in_its_description() -> None:
    label = "Delivered late but complete"  # 27
    [sent] = outbound.free_form(Outgoing(TO, "Pick", buttons=buttons(label, "b")), "Choose")
    [row, _] = sent["interactive"]["action"]["sections"][0]["rows"]
    assert row["title"] == "Delivered late but comp…" and len(row["title"]) == 24
    assert row["description"] == label


def test_more_than_ten_buttons_are_refused() -> None:
    with pytest.raises(Rejected, match="11 buttons"):
        outbound.free_form(Outgoing(TO, "Pick", buttons=buttons(*map(str, range(11)))), "C")


def test_a_body_over_1024_goes_as_text_first_then_the_buttons_under_a_short_body() -> None:
    long = "a" * 1500
    first, second = outbound.free_form(Outgoing(TO, long, buttons=buttons("Yes")), "Choose")
    assert first["text"]["body"] == long
    assert second["interactive"]["body"] == {"text": "Choose"}


def test_a_template_names_its_row_in_the_quick_reply_payload() -> None:
    sent = outbound.template(TO, "postsale_survey", "pt_BR", 41)
    assert sent["type"] == "template"
    assert sent["template"] == {
        "name": "postsale_survey",
        "language": {"code": "pt_BR"},
        "components": [
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": "0",
                "parameters": [{"type": "payload", "payload": "open:41"}],
            }
        ],
    }
    assert "components" not in outbound.template(TO, "postsale_reply", "en", None)["template"]


def test_media_carry_their_id_caption_and_file_name() -> None:
    image = outbound.media(TO, "image", "77", "Your label", None)
    assert image["image"] == {"id": "77", "caption": "Your label"}
    document = outbound.media(TO, "document", "78", "", "report.json")
    assert document["document"] == {"id": "78", "filename": "report.json"}


def test_a_read_mark_names_the_message() -> None:
    assert outbound.read_mark("wamid.R") == {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": "wamid.R",
    }


@pytest.mark.parametrize(
    ("code", "expected", "seconds"),
    [
        (130429, RetryAfter, 2.0),
        (131056, ChatRetryAfter, 6.0),
        (4, RetryAfter, 60.0),
        (80007, RetryAfter, 60.0),
        (131026, Forbidden, None),
        (131048, Halted, 900.0),
        (190, Halted, 900.0),
        (131049, Rejected, None),
        (131047, Rejected, None),
        (100, Rejected, None),
        (131000, Transient, None),
    ],
)
def test_each_graph_error_code_becomes_its_neutral_error(
    code: int, expected: type[Exception], seconds: float | None
) -> None:
    status, body = error_object(code)
    error = read_error(status, body)
    assert error.code == code
    mapped = neutral_error(error)
    assert type(mapped) is expected
    if seconds is not None:
        assert mapped.seconds == seconds  # type: ignore[attr-defined]
    assert window_closed(error) == (code == 131047)


def test_an_error_names_its_code_message_and_details() -> None:
    status, body = error_object(131049)
    text = str(neutral_error(read_error(status, body)))
    assert text.startswith("131049: (#131049) This message was not delivered")
    assert "(In order to maintain a healthy ecosystem engagement" in text


def test_an_error_page_without_an_error_object_is_told_by_its_status() -> None:
    assert isinstance(neutral_error(read_error(502, None)), Transient)
    assert isinstance(neutral_error(read_error(404, "<html>")), Rejected)
    assert isinstance(neutral_error(GraphError(401, None, "Unauthorized")), Halted)


def test_the_window_is_open_until_a_minute_before_24_hours() -> None:
    from datetime import UTC, datetime, timedelta

    wrote = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    window = ChatWindow(wrote, "en")
    assert window.is_open(wrote + timedelta(hours=23, minutes=58, seconds=59))
    assert not window.is_open(wrote + timedelta(hours=23, minutes=59))
    assert not ChatWindow(None, "en").is_open(wrote)
