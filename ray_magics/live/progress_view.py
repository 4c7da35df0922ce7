"""A live progress bar bound to an actor method, drawn like tqdm.notebook.

The widgets are built once (label | bar | info, with sub-bars for parts below) and then
only their traits change. Text front ends see one deterministic line: `repr(view)`.
"""

import time
from html import escape

import ipywidgets as widgets

from .drawing import format_interval, set_traits
from .method_view import MethodView
from .progress_reading import Reading, read_progress

RUNNING, SUCCESS, WARNING, DANGER = "info", "success", "warning", "danger"
NOTHING = object()  # no value drawn yet
STILL_CLOCK = 5.0  # seconds between redraws of the elapsed time while the value stands still (each one a message)
PART_BAR_HEIGHT = "10px"


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


def draw_bar(bar, reading: Reading) -> None:
    set_traits(bar, value=reading.fraction, bar_style=SUCCESS if reading.complete else RUNNING)


class PartBar:
    """One sub-bar: name | small bar | percent and counts."""

    def __init__(self, name: str):
        self.label = widgets.HTML(escape(name), layout=widgets.Layout(width="20%"))
        self.bar = widgets.FloatProgress(
            min=0, max=1, bar_style=RUNNING, layout=widgets.Layout(height=PART_BAR_HEIGHT, flex="2")
        )
        self.info = widgets.HTML()
        self.box = widgets.HBox([self.label, self.bar, self.info])

    def draw(self, reading: Reading, unit: str) -> None:
        draw_bar(self.bar, reading)
        set_traits(self.info, value=escape(" ".join(filter(None, (percent(reading), counts(reading, unit))))))


class ProgressView(MethodView):
    """A progress bar polling `method` (a bound actor method) every `interval` seconds.

    While the actor restarts the bar turns to warning with the notice, and back once the
    actor answers. `clock` is injectable so that tests can check rate, elapsed and ETA exactly.
    """

    def __init__(self, method, interval: float, description: str | None = None, unit: str | None = None,
                 clock=time.monotonic):
        super().__init__(method)
        self.interval = interval
        self.description = description or "Progress"
        self.unit = unit or ""
        self._clock = clock
        self._started = clock()
        self._first = None  # (time, fraction, done) of the first reading, for rate and ETA
        self._reading = Reading(0.0)
        self._value = NOTHING  # the value the reading was read from
        self._clock_drawn = None  # when the info line (with its elapsed time) was last drawn
        self.label = widgets.HTML(escape(self.description))
        self.bar = widgets.FloatProgress(min=0, max=1, value=0, bar_style=RUNNING, layout=widgets.Layout(flex="2"))
        self.info = widgets.HTML()
        self.parts = widgets.VBox()
        self._part_bars = {}
        self.widget = widgets.VBox([widgets.HBox([self.label, self.bar, self.info]), self.parts])

    def _live_status(self) -> str:
        return "done" if self._reading.complete else "running"

    def __repr__(self) -> str:
        amounts = counts(self._reading, self.unit)
        return f"{self.description}: {percent(self._reading)}{f' ({amounts})' if amounts else ''} {self.status}"

    def display_text(self) -> str:
        """What the view is, not what it shows: the reading races with the refresher."""
        return f"{self.description}: live progress bar"

    def _draw(self, value) -> bool:
        now = self._clock()
        if self._notice is None and self._same_value(value):
            self._draw_clock(now)  # only the clock moved
            return False
        try:
            reading = self._read(value)
        except ValueError as error:
            self._end(str(error))
            return True
        self._reading, self._value = reading, value
        self._notice = None
        if self._first is None:
            self._first = (now, reading.fraction, reading.done)
        self._draw_parts(reading)
        draw_bar(self.bar, reading)
        self._draw_info(now)
        failure = self._failure()
        if reading.complete:
            self._end(failure)
        elif failure is not None:
            set_traits(self.bar, bar_style=DANGER)
        return reading.complete

    def _read(self, value) -> Reading:
        """The reading a polled value stands for; `ValueError` if none."""
        return read_progress(value)

    def _failure(self) -> str | None:
        """What failed so far, though the bar goes on (it ends red with it); None if nothing."""
        return None

    def _same_value(self, value) -> bool:
        """Whether `value` is the value last drawn (a value that cannot be compared is not)."""
        try:
            return type(value) is type(self._value) and bool(value == self._value)
        except Exception:  # noqa: BLE001 - e.g. arrays inside: read afresh
            return False

    def _draw_info(self, now: float) -> None:
        self._clock_drawn = now
        set_traits(self.info, value=escape(self._info_text(now)))

    def _draw_clock(self, now: float) -> None:
        """The info line of a value standing still: its elapsed time, rate and ETA, every `STILL_CLOCK` s."""
        if now - self._clock_drawn >= STILL_CLOCK:
            self._draw_info(now)

    def _draw_outage(self) -> None:
        """Red with the reason polling ended, or amber with why it waits."""
        failed = self._reason is not None
        set_traits(self.bar, bar_style=DANGER if failed else WARNING)
        set_traits(self.info, value=escape(f"{percent(self._reading)} {self._reason if failed else self._notice}"))

    def _draw_parts(self, reading: Reading) -> None:
        if reading.parts.keys() != self._part_bars.keys():
            self._part_bars = {name: self._part_bars.get(name) or PartBar(name) for name in reading.parts}
            self.parts.children = [part.box for part in self._part_bars.values()]
        for name, part in reading.parts.items():
            self._part_bars[name].draw(part, self.unit)

    def _info_text(self, now: float) -> str:
        reading = self._reading
        elapsed = f"{format_interval(now - self._started)} elapsed"
        pieces = [percent(reading), counts(reading, self.unit), self._rate(now), elapsed]
        eta = self._eta(now)
        if eta is not None and not reading.complete:
            pieces.append(f"ETA {format_interval(eta)}")
        failure = self._failure()
        if failure is not None:
            pieces.append(f"failed: {failure}")
        return " · ".join(filter(None, pieces))

    def _rate(self, now: float) -> str:
        first_time, _, first_done = self._first
        if self._reading.done is None or now <= first_time:
            return ""
        return f"{(self._reading.done - first_done) / (now - first_time):.3g} {self.unit or 'it'}/s"

    def _eta(self, now: float) -> float | None:
        first_time, first_fraction, _ = self._first
        gained = self._reading.fraction - first_fraction
        if gained <= 0:
            return None
        return (1 - self._reading.fraction) * (now - first_time) / gained
