"""The port's HTTP types: what a channel's route reads and answers, without aiohttp."""

from __future__ import annotations

import json

from bot.channels.port import Headers, HttpRequest, HttpResponse


def test_headers_are_found_whatever_their_case() -> None:
    request = HttpRequest("POST", "/hook", headers={"X-Hub-Signature-256": "sha256=ab"})
    assert isinstance(request.headers, Headers)
    assert request.headers["x-hub-signature-256"] == "sha256=ab"
    assert request.headers.get("X-HUB-SIGNATURE-256") == "sha256=ab"
    assert request.headers.get("X-Other") is None
    assert len(request.headers) == 1


def test_a_json_answer_is_json_with_its_status() -> None:
    answer = HttpResponse.json({"error": "stopping"}, 503)
    assert (answer.status, answer.content_type) == (503, "application/json")
    assert isinstance(answer.body, str) and json.loads(answer.body) == {"error": "stopping"}
    assert HttpResponse(200) == HttpResponse(200, b"", "text/plain")
