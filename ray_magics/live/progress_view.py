"""A live progress bar drawn like tqdm.notebook from its meter (`meter.Meter`), and the bar of an actor method.

The widgets are built once (label | bar | info, with sub-bars for parts below) and then
only their traits change. Every word the bar shows comes from its meter: the info beside
the bar, and `repr(view)`, its one line where widgets are not.
"""

import time
from html import escape

import ipywidgets as widgets

from .drawing import set_traits
from .meter import SLOW, WAITING, Meter, Reading, part_text, read_progress
from .method_view import MethodView
from .view import LiveView

NOTHING = object()  # no value drawn yet
STILL_CLOCK = 5.0  # seconds between redraws of the elapsed time while the value stands still (each one a message)
PART_BAR_HEIGHT = "10px"
RUNNING, SUCCESS = "info", "success"


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
        set_traits(self.bar, value=reading.fraction, bar_style=SUCCESS if reading.complete else RUNNING)
        set_traits(self.info, value=escape(part_text(reading, unit)))


class BarView(LiveView):
    """A progress bar polled every `interval` seconds and drawn from its `meter`.

    Subclasses say what one poll is (`request`), what a polled value reads as (`_read`) and
    what failed so far while the bar goes on (`_failure`). While the actor restarts the bar
    turns to warning with the notice, and back once the actor answers. `clock` is injectable
    so that tests can check rate, elapsed and ETA exactly.
    """

    prints_when_ended = True

    def __init__(self, interval: float, description: str | None = None, unit: str | None = None,
                 clock=time.monotonic):
        super().__init__()
        self.interval = interval
        self.meter = Meter(interval, description, unit, clock)
        self._value = NOTHING  # the value the meter's reading was read from
        self._drawn = (None, None)  # (when, in which state) the info line was last drawn
        self.label = widgets.HTML(escape(self.meter.description))
        self.bar = widgets.FloatProgress(min=0, max=1, value=0, bar_style=self.meter.style,
                                         layout=widgets.Layout(flex="2"))
        self.info = widgets.HTML(escape(self.meter.info()))
        self.parts = widgets.VBox()
        self._part_bars = {}
        self.widget = widgets.VBox([widgets.HBox([self.label, self.bar, self.info]), self.parts])

    @property
    def status(self) -> str:
        return self.meter.status()

    def __repr__(self) -> str:
        return self.meter.line()

    def display_text(self) -> str:
        """What the view is, not what it shows: the reading races with the refresher."""
        return f"{self.meter.description}: live progress bar"

    def _draw_pause(self, notice: str) -> None:
        self.meter.pause(notice)
        self._draw_meter()

    def _draw(self, value) -> bool:
        if self.meter.notice is None and self._same_value(value):
            self.meter.read_again()
            self._draw_clock()  # only the clock moved
            return False
        try:
            reading = self._read(value)
        except ValueError as error:
            self._end(str(error))
            return True
        self._value = value
        self.meter.read(reading, self._failure(value))
        self._draw_parts(reading)
        self._draw_meter()
        if reading.complete:
            self._end(self.meter.failure)
        return reading.complete

    def _read(self, value) -> Reading:
        """The reading a polled value stands for; `ValueError` if none."""
        raise NotImplementedError

    def _failure(self, value) -> str | None:
        """What failed so far, though the bar goes on (it ends red with it); None if nothing."""
        return None

    def _same_value(self, value) -> bool:
        """Whether `value` is the value last drawn (a value that cannot be compared is not)."""
        try:
            return type(value) is type(self._value) and bool(value == self._value)
        except Exception:  # noqa: BLE001 - e.g. arrays inside: read afresh
            return False

    def _draw_meter(self) -> None:
        """The bar and the info line, as the meter has them now."""
        self._drawn = (self.meter.clock(), self.meter.state)
        set_traits(self.bar, value=self.meter.reading.fraction, bar_style=self.meter.style)
        set_traits(self.info, value=escape(self.meter.info()))

    def _draw_clock(self) -> None:
        """Only time moved: the seconds readings have waited, at once; the elapsed time, rate and ETA of
        a value standing still, every `STILL_CLOCK` s."""
        when, drawn_state = self._drawn
        state = self.meter.state
        if state != drawn_state or state in (WAITING, SLOW) or self.meter.clock() - when >= STILL_CLOCK:
            self._draw_meter()

    _draw_wait = _draw_clock

    def _draw_outage(self) -> None:
        """Red with the reason the bar ended."""
        self.meter.fail(self._reason)
        self._draw_meter()

    def _draw_parts(self, reading: Reading) -> None:
        if reading.parts.keys() != self._part_bars.keys():
            self._part_bars = {name: self._part_bars.get(name) or PartBar(name) for name in reading.parts}
            self.parts.children = [part.box for part in self._part_bars.values()]
        for name, part in reading.parts.items():
            self._part_bars[name].draw(part, self.meter.unit)


class ProgressView(MethodView, BarView):
    """A progress bar polling `method` (a bound actor method): `ProgressView(method, interval, description, unit)`."""

    def _read(self, value) -> Reading:
        return read_progress(value)
