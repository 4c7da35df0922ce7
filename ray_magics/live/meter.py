"""A progress bar's model: readings in; fraction, counts, rate, ETA, state and text out.

Plain data and a clock, no widgets and no Ray, as tqdm's `format_meter` is apart from its
notebook widget. Every front end draws from one `Meter`: the widget (`progress_view`), the
line in a terminal, the final line in a log and the `text/plain` of a saved notebook, so
they never disagree.
"""

import time

from .drawing import format_interval, slow_after, slow_text, waiting_text
from .progress_reading import Reading

WAITING, RUNNING, SLOW, PAUSED, DONE, FAILED = "waiting", "running", "slow", "paused", "done", "failed"
STYLES = {  # ipywidgets' bar_style for each state, as tqdm.notebook draws them
    WAITING: "info", RUNNING: "info", SLOW: "warning", PAUSED: "warning", DONE: "success", FAILED: "danger",
}


def percent(reading: Reading) -> str:
    return f"{int(reading.fraction * 100)}%"  # floor: 99.9% never shows as 100%


def counts(reading: Reading, unit: str) -> str:
    """`done/total unit`, or '' when the reading is a bare fraction."""
    if reading.total is None:
        return ""
    return f"{amount(reading.done)}/{amount(reading.total)}{' ' + unit if unit else ''}"


def amount(value: float) -> str:
    """A count in full with thousands separators (`128,000,000`); a fraction as `2.5`."""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.4g}"


def part_text(reading: Reading, unit: str) -> str:
    """A sub-bar's text: percent and counts."""
    return " ".join(filter(None, (percent(reading), counts(reading, unit))))


class Meter:
    """What a bar shows, from the readings it was given and the time on its `clock`.

    A reading comes with `read` (or `read_again`, the same one again); `pause` says why
    readings wait (the actor restarts), until the next; `fail` ends it for good. A failure
    the bar goes on with (a ref failed, others still run) comes with the reading.
    """

    def __init__(self, interval: float, description: str | None = None, unit: str | None = None,
                 clock=time.monotonic):
        self.interval = interval
        self.description = description or "Progress"
        self.unit = unit or ""
        self.clock = clock
        self.started = clock()
        self.reading = Reading(0.0)
        self.failure = None  # what failed so far, though the bar goes on
        self.notice = None  # why readings wait (the actor restarts), until the next reading
        self.reason = None  # why the bar was cut short, for good
        self._first = None  # (time, fraction, done) of the first reading, for rate and ETA
        self._last_at = None  # when the last reading came

    # ------------------------------------------------------------------ readings in

    def read(self, reading: Reading, failure: str | None = None) -> None:
        """A reading came now."""
        now = self.clock()
        if self._first is None:
            self._first = (now, reading.fraction, reading.done)
        self.reading, self.failure, self.notice, self._last_at = reading, failure, None, now

    def read_again(self) -> None:
        """The last reading came again, now."""
        self.notice, self._last_at = None, self.clock()

    def pause(self, notice: str) -> None:
        self.notice = notice

    def fail(self, reason: str) -> None:
        self.reason = reason

    # ------------------------------------------------------------------ what it shows

    @property
    def state(self) -> str:
        return self._state(self.clock())

    @property
    def style(self) -> str:
        """The bar's style: a failure the bar goes on with turns it red already."""
        return STYLES[FAILED] if self.failure is not None else STYLES[self.state]

    def status(self) -> str:
        """How it goes, in words: `running`, `done`, `failed: <reason>`, the notice, or how long readings wait."""
        now = self.clock()
        state = self._state(now)
        if state == FAILED:
            return f"failed: {self.reason}"
        return self._waits(state, now) or state

    def line(self) -> str:
        """The bar in one line: `Job: 50% (5/10 steps) running`."""
        amounts = counts(self.reading, self.unit)
        return f"{self.description}: {percent(self.reading)}{f' ({amounts})' if amounts else ''} {self.status()}"

    def info(self) -> str:
        """The text beside the bar: percent, counts, rate, elapsed and ETA while it runs; else why not."""
        now = self.clock()
        state = self._state(now)
        if state == FAILED:
            return f"{percent(self.reading)} {self.reason}"
        if state not in (RUNNING, DONE):
            return f"{percent(self.reading)} {self._waits(state, now)}"
        pieces = [percent(self.reading), counts(self.reading, self.unit), self.rate(now),
                  f"{format_interval(now - self.started)} elapsed"]
        eta = self.eta(now)
        if eta is not None and state != DONE:
            pieces.append(f"ETA {format_interval(eta)}")
        if self.failure is not None:
            pieces.append(f"failed: {self.failure}")
        return " · ".join(filter(None, pieces))

    def rate(self, now: float) -> str:
        """`2.5 rows/s` since the first reading; '' for a bare fraction, or before time has passed."""
        first_time, _, first_done = self._first
        if self.reading.done is None or now <= first_time:
            return ""
        return f"{(self.reading.done - first_done) / (now - first_time):.3g} {self.unit or 'it'}/s"

    def eta(self, now: float) -> float | None:
        """Seconds left at the pace since the first reading; None while nothing was gained."""
        first_time, first_fraction, _ = self._first
        gained = self.reading.fraction - first_fraction
        if gained <= 0:
            return None
        return (1 - self.reading.fraction) * (now - first_time) / gained

    def _state(self, now: float) -> str:
        if self.reason is not None:
            return FAILED
        if self.notice is not None:
            return PAUSED
        if self._last_at is None:
            return WAITING
        if self.reading.complete:
            return DONE
        return SLOW if now - self._last_at > slow_after(self.interval) else RUNNING

    def _waits(self, state: str, now: float) -> str | None:
        """The notice, or how long readings have not come; None while they come."""
        if state == PAUSED:
            return self.notice
        if state == WAITING:
            return waiting_text(now - self.started)
        if state == SLOW:
            return slow_text(now - self._last_at)
        return None
