"""A bar's model (`live.meter.Meter`): readings and a fake clock in; state, rate, ETA and words out.

No widgets and no Ray: every front end (the widget's info, the terminal's line, a log's final
line, a saved notebook's text) draws these words.
"""

import subprocess
import sys

import pytest

from ray_magics.live.meter import Meter, Reading, amount, read_progress


class Clock:
    """A clock that moves only when told."""

    def __init__(self, now: float = 100.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


def meter_at(clock, interval=0.5, **options) -> Meter:
    return Meter(interval, clock=clock, **options)


def test_the_model_imports_neither_widgets_nor_ray():
    code = "import sys, ray_magics.live.meter; print(sorted({'ipywidgets', 'ray'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout == "[]\n"


def test_before_the_first_reading_it_waits_and_counts_the_seconds(clock):
    meter = meter_at(clock, description="Job")
    assert (meter.state, meter.style) == ("waiting", "info")
    assert meter.line() == "Job: 0% waiting for the first reading (0 s)"
    clock.now += 12.7
    assert meter.info() == "0% waiting for the first reading (12 s)"
    assert meter.status() == "waiting for the first reading (12 s)"


def test_readings_give_percent_counts_rate_elapsed_and_eta(clock):
    meter = meter_at(clock, interval=1, unit="rows")
    meter.read(read_progress((0, 10)))
    clock.now += 10
    meter.read(read_progress((5, 10)))
    assert (meter.state, meter.style) == ("running", "info")
    assert meter.info() == "50% · 5/10 rows · 0.5 rows/s · 00:10 elapsed · ETA 00:10"
    assert meter.line() == "Progress: 50% (5/10 rows) running"
    clock.now = 100 + 3725
    meter.read(read_progress((10, 10)))
    assert (meter.state, meter.style) == ("done", "success")
    assert meter.info() == "100% · 10/10 rows · 0.00268 rows/s · 1:02:05 elapsed"
    assert meter.line() == "Progress: 100% (10/10 rows) done"


def test_a_bare_fraction_has_no_counts_and_no_rate(clock):
    meter = meter_at(clock)
    meter.read(read_progress(0.25))
    clock.now += 2
    meter.read(read_progress(0.5))
    assert meter.info() == "50% · 00:02 elapsed · ETA 00:04"
    assert meter.line() == "Progress: 50% running"


def test_readings_late_by_three_intervals_are_slow_until_the_next(clock):
    meter = meter_at(clock, interval=2)
    meter.read(read_progress((1, 4)))
    clock.now += 6
    assert meter.state == "running"  # three intervals late is not yet late
    clock.now += 0.5
    assert (meter.state, meter.style) == ("slow", "warning")
    assert meter.info() == "25% slow: last reading 6 s ago"
    assert meter.line() == "Progress: 25% (1/4) slow: last reading 6 s ago"
    meter.read_again()  # the same reading, come at last
    assert meter.line() == "Progress: 25% (1/4) running"


def test_a_short_interval_is_slow_after_a_second_at_least(clock):
    meter = meter_at(clock, interval=0.05)
    meter.read(read_progress(0.5))
    clock.now += 0.9
    assert meter.state == "running"
    clock.now += 0.2
    assert meter.status() == "slow: last reading 1 s ago"


def test_a_pause_shows_its_notice_until_the_next_reading(clock):
    meter = meter_at(clock)
    meter.read(read_progress(0.5))
    meter.pause("actor restarting (restart 1)")
    assert (meter.state, meter.style) == ("paused", "warning")
    assert meter.info() == "50% actor restarting (restart 1)"
    assert meter.line() == "Progress: 50% actor restarting (restart 1)"
    meter.read(read_progress(0.6))
    assert meter.line() == "Progress: 60% running"


def test_a_failure_ends_it_red_and_stays_whatever_comes(clock):
    meter = meter_at(clock)
    meter.read(read_progress(0.5))
    meter.fail("ValueError: disk <full>")
    assert (meter.state, meter.style) == ("failed", "danger")
    assert meter.info() == "50% ValueError: disk <full>"
    assert meter.line() == "Progress: 50% failed: ValueError: disk <full>"
    clock.now += 60
    meter.pause("actor restarting (restart 1)")
    assert meter.line() == "Progress: 50% failed: ValueError: disk <full>"


def test_a_failure_the_bar_goes_on_with_turns_it_red_at_once(clock):
    meter = meter_at(clock, unit="refs")
    meter.read(Reading(0.25, 1, 4), failure="1 of 4 refs, first ValueError: x")
    assert (meter.state, meter.style) == ("running", "danger")
    assert meter.info() == "25% · 1/4 refs · 00:00 elapsed · failed: 1 of 4 refs, first ValueError: x"
    meter.read(Reading(1.0, 4, 4), failure="1 of 4 refs, first ValueError: x")
    assert meter.style == "danger"  # never green, not even for a moment before it ends red


def test_counts_are_written_in_full():
    assert [amount(128_000_000), amount(2.5), amount(10.0)] == ["128,000,000", "2.5", "10"]
