"""The typed outbox body reads the plain dicts rows always held, and writes the same JSON."""

from __future__ import annotations

import pytest

from storage.outbox_body import BodyButton, OutboxBody


def test_an_old_plain_body_reads_into_every_field_and_writes_back_the_same() -> None:
    old = {
        "text": "Your data",
        "buttons": [[{"text": "OK", "data": "ok:1"}, {"text": "No", "data": "no:1"}]],
        "request_contact": True,
        "contact_label": "Share my phone",
        "remove_keyboard": True,
        "document_path": "/files/exports/mydata.json",
        "document_name": "mydata.json",
        "discard_after_send": True,
        "chart": {"kind": "weekly_scores", "nps": [None, 12.5]},
        "customer_ref": 7,
    }
    body = OutboxBody.from_json(old)
    assert body.text == "Your data"
    assert body.buttons == ((BodyButton("OK", "ok:1"), BodyButton("No", "no:1")),)
    assert body.request_contact and body.remove_keyboard and body.discard_after_send
    assert (body.contact_label, body.document_name) == ("Share my phone", "mydata.json")
    assert body.files == ("/files/exports/mydata.json",)
    assert body.chart == {"kind": "weekly_scores", "nps": [None, 12.5]}
    assert body.customer_ref == 7
    assert body.extra == {}
    assert body.to_json() == old


def test_a_key_it_does_not_know_travels_along() -> None:
    old = {"text": "Hi", "from_a_later_version": {"x": 1}}
    body = OutboxBody.from_json(old)
    assert body.extra == {"from_a_later_version": {"x": 1}}
    assert body.to_json() == old


def test_false_and_empty_parts_are_left_out_and_read_back_as_defaults() -> None:
    rendered = {"text": "Hi", "buttons": [], "request_contact": False}  # as i18n.render writes
    body = OutboxBody.from_json(rendered)
    assert body == OutboxBody(text="Hi")
    assert body.to_json() == {"text": "Hi"}
    assert OutboxBody.from_json(body.to_json()) == body


def test_an_edit_keeps_its_empty_keyboard_and_has_no_text() -> None:
    closed = OutboxBody(edit_message_id="55")
    assert closed.to_json() == {"buttons": [], "edit_message_id": "55"}
    stored_as_number = OutboxBody.from_json({"edit_message_id": 55, "buttons": []})
    assert stored_as_number == closed


def test_a_photo_added_at_send_time_leaves_the_rest_alone() -> None:
    body = OutboxBody(text="Scores", chart={"kind": "weekly_scores"})
    drawn = body.with_photo("/files/charts/kpi.png")
    assert drawn.to_json() == {
        "text": "Scores",
        "photo_path": "/files/charts/kpi.png",
        "chart": {"kind": "weekly_scores"},
    }


@pytest.mark.parametrize(
    "malformed",
    [{"text": "x", "buttons": [[{"text": "no data"}]]}, {"text": "x", "buttons": [5]}],
)
def test_a_malformed_body_is_a_value_error(malformed: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="malformed outbox body"):
        OutboxBody.from_json(malformed)


def test_an_attachment_splits_off_and_the_rest_keeps_text_buttons_and_customer() -> None:
    row = (BodyButton("Open #4", "op:t:4"),)
    body = OutboxBody(
        text="Scores",
        buttons=(row,),
        chart={"kind": "weekly_scores"},
        photo_path="/files/charts/kpi.png",
        discard_after_send=True,
        customer_ref=7,
    )
    assert body.has_attachment
    moved, rest = body.attachment(), body.without_attachment()
    assert moved.to_json() == {  # no text: the moved row sends the file alone
        "photo_path": "/files/charts/kpi.png",
        "chart": {"kind": "weekly_scores"},
        "discard_after_send": True,
    }
    assert rest == OutboxBody(text="Scores", buttons=(row,), customer_ref=7)
    assert not rest.has_attachment and not moved.text
    assert OutboxBody(document_name="only a name").has_attachment  # as outbox_retry had it


def test_the_transcript_payload_is_the_json_without_its_text() -> None:
    body = OutboxBody(text="Hi", buttons=((BodyButton("OK", "ok:1"),),), customer_ref=7)
    assert body.transcript_payload() == {
        "buttons": [[{"text": "OK", "data": "ok:1"}]],
        "customer_ref": 7,
    }
    assert OutboxBody(text="Hi").transcript_payload() is None


def test_a_customer_ref_that_is_not_a_number_is_a_malformed_body() -> None:
    assert OutboxBody.from_json({"text": "x", "customer_ref": "7"}).customer_ref == 7
    with pytest.raises(ValueError, match="malformed outbox body"):
        OutboxBody.from_json({"text": "x", "customer_ref": "Ana"})
