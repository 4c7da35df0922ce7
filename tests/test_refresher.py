"""The refresher's schedule: each view polled at its own interval, however short.

The schedule is `polls_due` and `next_poll`, pure functions of the views' due times and
the time now; they are tested here with a fake clock (plain numbers), so no test depends
on how fast the machine is. One test runs the real refresher thread, without timing checks.
"""

import pytest

from ray_magics.live.refresher import DUE_WINDOW, REFRESHER, next_poll, polls_due
from ray_magics.live.view import LiveView

from .conftest import wait_for

TURN = 0.001  # seconds of fake time between two turns of the simulated refresher thread


class FakeView:
    """All the schedule reads of a view: its interval (and that it is a distinct key)."""

    def __init__(self, interval: float, name: str):
        self.interval = interval
        self.name = name

    def __repr__(self):
        return f"{self.name}({self.interval})"


def simulate(added: dict, span: float, turn: float = TURN) -> dict:
    """When each view is polled in `[0, span)` by a refresher thread that takes a turn every
    `turn` seconds (many more turns than polls, as when Ray answers other polls meanwhile).

    `added`: view → when it is added (it is then due at once, as `Refresher.add` makes it).
    Each turn polls what `polls_due` says, and the views' next due times are what it returns.
    """
    due, polled = {}, {view: [] for view in added}
    for step in range(int(span / turn) + 1):
        now = step * turn
        if now >= span:
            break
        for view, at in added.items():
            if view not in due and at <= now:
                due[view] = at
        for view, when in polls_due(due, now).items():
            assert when > now, (view, when, now)  # a next poll is always later
            polled[view].append(now)
            due[view] = when
    return polled


def gaps(times: list) -> list:
    return [later - earlier for earlier, later in zip(times, times[1:], strict=False)]


def test_views_of_one_interval_poll_in_step():
    one, two, three = (FakeView(0.2, name) for name in ("one", "two", "three"))
    assert polls_due({one: 5.0, two: 5.0, three: 5.0}, 5.0) == {one: 5.2, two: 5.2, three: 5.2}
    # due a little apart (within the window): one batch, on the step of the earliest
    assert polls_due({one: 5.0, two: 5.01, three: 5.03}, 5.0) == {one: 5.2, two: 5.2, three: 5.2}
    polled = simulate({one: 0.0, two: 0.0, three: 0.0}, span=2.0)
    assert polled[one] == polled[two] == polled[three]
    assert len(polled[one]) == 10


def test_a_view_added_later_joins_the_batch_of_its_interval_after_its_first_poll():
    first, later = FakeView(0.2, "first"), FakeView(0.2, "later")
    # added at 0.13: polled at once and alone (first is due only at 0.2), next due with first
    assert polls_due({first: 0.2, later: 0.13}, 0.13) == {later: 0.2}
    # due next with first: polled in one batch, both next due an interval later
    assert polls_due({first: 0.2, later: 0.2}, 0.2) == {first: 0.4, later: 0.4}

    polled = simulate({first: 0.0, later: 0.13}, span=2.0)
    assert polled[later][0] == pytest.approx(0.13)  # its first poll is at once
    assert polled[later][1:] == polled[first][1:]  # then each poll in first's batch
    assert polled[first] == pytest.approx([0.2 * k for k in range(10)], abs=2 * TURN)  # first keeps its step


def test_views_of_other_intervals_keep_their_own_schedule():
    fast, slow, other = FakeView(0.2, "fast"), FakeView(0.2, "slow"), FakeView(0.3, "other")
    # `other` is due within the window of the 0.2 batch, but is of another interval: not polled early
    assert polls_due({fast: 1.0, slow: 1.0, other: 1.01}, 1.0) == {fast: 1.2, slow: 1.2}
    # and its own poll takes none of the 0.2 views along, even due within its window
    assert polls_due({fast: 1.2, slow: 1.2, other: 1.19}, 1.19) == {other: pytest.approx(1.49)}

    polled = simulate({fast: 0.0, other: 0.05, slow: 0.1}, span=3.0)
    assert polled[other] == pytest.approx([0.05 + 0.3 * k for k in range(10)], abs=2 * TURN)
    assert polled[fast] == pytest.approx([0.2 * k for k in range(15)], abs=2 * TURN)
    assert polled[slow][1:] == polled[fast][1:]


def test_a_poll_that_fell_behind_restarts_from_now():
    assert next_poll(1.0, 0.25, 1.1) == 1.25  # on time: an interval after it was due
    assert next_poll(1.0, 0.25, 1.6) == 1.85  # late by more than an interval: from now, no burst to catch up
    view = FakeView(0.25, "late")
    assert polls_due({view: 1.0}, 1.6) == {view: 1.85}
    # a thread that takes a turn only every 0.7 s polls a 0.25 s view once a turn, never twice
    polled = simulate({view: 0.0}, span=7.0, turn=0.7)
    assert polled[view] == pytest.approx([0.7 * k for k in range(10)])


@pytest.mark.parametrize("interval", [0.01, 0.04, 0.05, 0.1, 0.2, 1.0])
def test_the_early_window_is_at_most_half_the_interval(interval):
    window = min(DUE_WINDOW, interval / 2)
    assert window <= interval / 2
    now = 10.0
    due_now, just_in, just_out = (FakeView(interval, name) for name in ("due now", "just in", "just out"))
    due = {due_now: now, just_in: now + 0.99 * window, just_out: now + 1.01 * window}
    polled = polls_due(due, now)
    assert set(polled) == {due_now, just_in}  # polled early by at most the window
    assert polled[due_now] == polled[just_in] == due[just_out]  # and the batch falls into the step of the rest
    beyond_half = FakeView(interval, "beyond half")
    assert set(polls_due({due_now: now, beyond_half: now + 0.51 * interval}, now)) == {due_now}


@pytest.mark.parametrize("turn", [TURN, 0.0037])
def test_intervals_at_and_below_the_window_are_polled_at_their_interval(turn):
    """Over 2 s, each view is polled 2 s / interval times, not at every turn of the thread
    (the bug once was that an interval ≤ 50 ms was polled every turn); a view of each interval
    added 3 ms later polls as often, in step after its first poll."""
    views = {FakeView(interval, f"{interval} s"): 0.0 for interval in (0.01, 0.05, 0.2)}
    later = {FakeView(view.interval, f"{view.interval} s, later"): 0.003 for view in views}
    polled = simulate({**views, **later}, span=2.0, turn=turn)
    counts = {view: len(times) for view, times in polled.items()}
    assert counts == {view: round(2.0 / view.interval) for view in polled}, counts
    for view, times in polled.items():
        assert min(gaps(times)) >= view.interval / 2 - 1e-9, view  # never polled more than half an interval early


class CountingView(LiveView):
    """A view polled in the refresher's thread that counts its polls and never finishes."""

    def __init__(self, interval: float):
        super().__init__()
        self.interval = interval
        self.polls = 0
        self.ended_for = None

    def request(self):
        self.polls += 1
        return self.polls

    def show(self, value) -> bool:
        assert value == self.polls
        return False

    def pause(self, notice: str) -> None:
        raise AssertionError(notice)

    def _draw_outage(self) -> None:
        self.ended_for = self._reason


def test_the_refresher_thread_polls_each_view_until_end_all_ends_them(session_shell):
    views = [CountingView(interval) for interval in (0.01, 0.05, 0.2)]
    try:
        for view in views:
            REFRESHER.add(view)
        wait_for(lambda: all(view.polls >= 3 for view in views), timeout=30, what="three polls of each view")
        assert REFRESHER.thread is not None and REFRESHER.thread.is_alive()
    finally:
        REFRESHER.end_all("test over")
    assert REFRESHER.thread is None or not REFRESHER.thread.is_alive()
    assert REFRESHER.views == []
    assert all(view.finished.is_set() and view.ended_for == "test over" for view in views)
