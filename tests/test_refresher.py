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

    def request(self):
        self.polls += 1
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
