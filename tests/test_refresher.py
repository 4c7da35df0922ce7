"""The refresher's schedule: each view polled at its own interval, however short."""

import time

import pytest

from ray_magics.refresher import REFRESHER, LiveView

WINDOW = 2.0


class CountingView(LiveView):
    """A view polled in the refresher's thread that counts its polls and never finishes."""

    def __init__(self, interval: float):
        self.interval = interval
        self.polls = 0
        self.polled_at = []

    def request(self):
        self.polls += 1
        self.polled_at.append(time.monotonic())
        return self.polls

    def show(self, value) -> bool:
        return False

    def pause(self, notice: str) -> None:
        raise AssertionError(notice)

    def fail(self, reason: str) -> None:
        self.reason = reason


@pytest.fixture
def views(session_shell):
    made = {interval: CountingView(interval) for interval in (0.01, 0.05, 0.2)}
    yield made
    REFRESHER.stop_all("test over")


def test_each_view_is_polled_at_its_interval_even_below_the_batching_window(views):
    for view in views.values():
        REFRESHER.add(view)
    time.sleep(WINDOW)
    counts = {interval: view.polls for interval, view in views.items()}
    for interval, polls in counts.items():
        expected = WINDOW / interval + 1  # (the first poll is at once)
        assert 0.8 * expected <= polls <= 1.1 * expected, counts


def test_a_view_added_later_joins_the_step_of_its_interval(session_shell):
    first, later, other = CountingView(0.2), CountingView(0.2), CountingView(0.3)
    try:
        REFRESHER.add(first)
        REFRESHER.add(other)
        time.sleep(0.13)
        REFRESHER.add(later)
        time.sleep(1.0)
    finally:
        REFRESHER.stop_all("test over")
    assert later.polled_at[0] - first.polled_at[0] > 0.1  # its first poll was at once
    in_step = zip(later.polled_at[1:4], first.polled_at[1:4], strict=True)
    assert all(abs(a - b) < 0.005 for a, b in in_step), (later.polled_at, first.polled_at)  # one batch
    gaps = [b - a for a, b in zip(other.polled_at, other.polled_at[1:], strict=False)]
    assert all(0.25 < gap < 0.35 for gap in gaps), gaps  # another interval keeps its own step
