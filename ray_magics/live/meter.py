"""A progress bar's model: readings in; fraction, counts, rate, ETA, state and text out.

Plain data and a clock, no widgets and no Ray, as tqdm's `format_meter` is apart from its
notebook widget. Every front end draws from one `Meter`: the widget (`progress_view`), the
line in a terminal, the final line in a log and the `text/plain` of a saved notebook, so
they never disagree.

A reading is what a progress method returned (`read_progress`: a fraction in [0, 1]; a
`(done, total)` pair; or a mapping with `done`, `total` and optional `parts`, name → fraction
or `(done, total)`), or a refs bar's count of the refs ready, as one `Reading` (or a one-line
`ValueError`).
"""

import math
import numbers
import reprlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from .drawing import format_interval, slow_after, slow_text, waiting_text

EXPECTED = "a fraction in [0, 1], a (done, total) pair or a mapping with done and total"


@dataclass(frozen=True)
class Reading:
    """One progress reading: the fraction done, its counts when known, and its parts."""

    fraction: float
    done: float | None = None
    total: float | None = None
    parts: dict = field(default_factory=dict)  # name -> Reading

    @property
    def complete(self) -> bool:
        return self.fraction >= 1


def read_progress(value) -> Reading:
    """The `Reading` a progress method's return value stands for."""
    if isinstance(value, Mapping):
        return read_mapping(value)
    return read_simple(value)


def read_simple(value) -> Reading:
    """A fraction or a `(done, total)` pair."""
    if is_number(value):
        fraction = finite(value, "the fraction")
        if not 0 <= fraction <= 1:
            raise ValueError(f"the fraction must be in [0, 1], got {fraction:g}")
        return Reading(fraction)
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return read_done_total(*value)
    raise ValueError(f"expected {EXPECTED}, got {describe_value(value)}")


def read_done_total(done, total) -> Reading:
    done, total = finite(done, "done"), finite(total, "total")
    if total <= 0:
        raise ValueError(f"total must be > 0, got {total:g}")
    if not 0 <= done <= total:
        raise ValueError(f"done must be in [0, total], got {done:g} of {total:g}")
    return Reading(done / total, done, total)


def read_mapping(value: Mapping) -> Reading:
    missing = [key for key in ("done", "total") if key not in value]
    if missing:
        raise ValueError(f"the mapping lacks {' and '.join(missing)}")
    main = read_done_total(value["done"], value["total"])
    parts = value.get("parts") or {}
    if not isinstance(parts, Mapping):
        raise ValueError(f"parts must be a mapping of name to progress, got {describe_value(parts)}")
    named_parts = {str(name): read_part(name, part) for name, part in parts.items()}
    return Reading(main.fraction, main.done, main.total, named_parts)


def read_part(name, value) -> Reading:
    try:
        return read_simple(value)
    except ValueError as error:
        raise ValueError(f"part {str(name)!r}: {error}") from None


def is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def finite(value, what: str) -> float:
    if not is_number(value):
        raise ValueError(f"{what} must be a number, got {describe_value(value)}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{what} must be finite, got {number}")
    return number


def describe_value(value) -> str:
    return f"{type(value).__name__} {reprlib.repr(value)}"


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
