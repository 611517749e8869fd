"""The overall pacer on a simulated clock: spacing, the one-second window, catch-up."""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter

from bot.delivery.limits import Pacer


def drive(pacer: Pacer, seconds: float, *, stall: tuple[float, float] | None = None) -> list[float]:
    """Send whenever the pacer allows, for ``seconds``; ``stall`` = (at, length) of a
    moment the event loop could not run. Returns the send times."""
    now, sent = 0.0, []
    while now < seconds:
        if stall and stall[0] <= now < stall[0] + stall[1]:
            now = stall[0] + stall[1]
        wait = pacer.delay(now)
        if wait > 0:
            now += wait
            continue
        pacer.take(now)
        sent.append(now)
    return sent


def most_in_one_second(times: list[float]) -> int:
    return max(bisect_left(times, t + 1.0) - i for i, t in enumerate(times))


def test_sends_are_spaced_under_the_limit_and_never_exceed_it_in_a_second() -> None:
    sent = drive(Pacer(100, margin=0.02, tolerance=0.02, safety=0.97), 10.0)
    rate = (len(sent) - 1) / (sent[-1] - sent[0])
    assert 96.0 < rate < 98.0  # 97 a second: 3% of the limit absorbs arrival jitter
    assert most_in_one_second(sent) <= 100
    gaps = sorted(b - a for a, b in zip(sent, sent[1:], strict=False))
    assert abs(gaps[len(gaps) // 2] - 1 / 97) < 1e-9  # evenly spaced, as a rule
    assert max(Counter(sent).values()) <= 3  # and never a burst


def test_lateness_is_caught_up_only_within_the_tolerance() -> None:
    pacer = Pacer(1000, margin=0.02, tolerance=0.02, safety=0.97)
    sent = drive(pacer, 2.0, stall=(0.5, 0.3))
    after = [t for t in sent if t == 0.8]
    # 0.3 s late at 970/s would be 291 messages at once; the tolerance allows ~20.
    assert 15 <= len(after) <= 21
    assert most_in_one_second(sent) <= 1000


def test_a_pause_holds_every_send_back() -> None:
    pacer = Pacer(30, safety=0.97)
    pacer.take(0.0)
    pacer.pause(5.0)
    assert pacer.delay(1.0) == 4.0
    assert pacer.delay(5.0) == 0.0


def test_the_window_drops_only_sends_that_left_more_than_a_second_ago() -> None:
    pacer = Pacer(100, margin=0.02)
    late = pacer.take(0.0)  # its send has not left yet: it may still count later
    Pacer.started(pacer.take(0.0), 0.0)
    pacer.take(5.0)
    assert len(pacer) == 3  # the one not yet left holds the window's oldest in place

    Pacer.started(late, 5.0)  # it left at 5 s: it counts there
    pacer.take(5.5)
    assert len(pacer) == 4
    pacer.take(7.0)  # both that left by 5 s are out of the window; 5.0 has not left
    assert len(pacer) == 3
