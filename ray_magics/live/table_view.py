"""A live table of what an actor method returns (`%actor_table`), in one HTML widget.

Each poll's value becomes a table (`make_table`) above a status line. The status
line names the poll and time of the table's last change, not of the last poll, so a poll
that changes nothing sends nothing to the front end; until the first reading, or while
readings are late, it says how long they have not come. Text front ends see one line:
`repr(view)`.

What a method's return value makes, a table of strings (plain data in, strings out: no Ray,
no widgets):

- a list (or tuple): a row per item, columns `#` (the item's index, from 0) and `value`;
- a dict: a row per key, columns `key` and `value`;
- a non-empty list of dicts: a row per dict, columns the union of their keys in first-seen
  order (a key a dict lacks is an empty cell).

`--until VALUE` compares as strings the list's items, the dict's values or, in a list of
dicts, the cells of its first state-like column (`state` or `status`, in any case), or
every cell if it has none. A table without rows is never done.
"""

import reprlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape

import ipywidgets as widgets

from ..errors import plural
from .drawing import format_interval, html_table, set_traits, slow_after, slow_text, text_table, waiting_text
from .method_view import MethodView

STATE_COLUMNS = ("state", "status")
VALUE_COLUMN = 1  # of the `#`/`key`, `value` tables
CSS_CLASS = "ray-magics-table"
SHAPES = "a list, a dict or a list of dicts"


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    until_column: int | None  # the column `--until` compares; None: every column

    def all_equal(self, value: str) -> bool:
        """Whether there are rows and every compared cell is `value`."""
        columns = range(len(self.header)) if self.until_column is None else (self.until_column,)
        return bool(self.rows) and all(row[column] == value for row in self.rows for column in columns)

    def html(self) -> str:
        """The table as HTML, every value escaped, state words coloured."""
        return html_table(self.header, self.rows, CSS_CLASS)

    def text(self) -> str:
        """The table as aligned plain text."""
        return text_table(self.header, self.rows)


def make_table(value) -> Table:
    """The table of a polled value; ValueError if it has none of the shapes above."""
    if isinstance(value, Mapping):
        return Table(("key", "value"), tuple((str(key), str(item)) for key, item in value.items()), VALUE_COLUMN)
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"expected {SHAPES}, got {type(value).__name__} {reprlib.repr(value)}")
    if value and all(isinstance(item, Mapping) for item in value):
        return records_table(value)
    return Table(("#", "value"), tuple((str(index), str(item)) for index, item in enumerate(value)), VALUE_COLUMN)


def records_table(records) -> Table:
    """A row per mapping, a column per key any of them has."""
    keys = list(dict.fromkeys(key for record in records for key in record))
    header = tuple(str(key) for key in keys)
    rows = tuple(tuple(str(record[key]) if key in record else "" for key in keys) for record in records)
    state_column = next((index for index, name in enumerate(header) if name.lower() in STATE_COLUMNS), None)
    return Table(header, rows, state_column)


STATUS_STYLE = "color:gray;font-size:smaller"
PAUSED_STYLE = "color:orange"
FAILED_STYLE = "color:red"


class TableView(MethodView):
    """A table polling `method` (a bound actor method) every `interval` seconds.

    `label` names it (e.g. `sup.state`); with `until`, it is done once every compared
    value equals `until`. While the actor restarts the status line says so, until it answers.
    """

    def __init__(self, method, label: str, interval: float, until: str | None = None):
        super().__init__(method)
        self.interval = interval
        self.label = label
        self.until = until
        self.polls = 0
        self._started = time.monotonic()
        self._table: Table | None = None
        self._last_change = None  # (poll, seconds since start) when the table last changed
        self._last_at = None  # when the last reading came
        self._notice = None  # why polling waits (the actor restarts), until the next reading
        self._done = False
        self.widget = widgets.HTML(self._html())

    @property
    def status(self) -> str:
        """How it goes: `running`, `done (all DONE)`, `failed: <reason>`, the notice, or how long readings wait."""
        if self._reason is not None:
            return f"failed: {self._reason}"
        if self._notice is not None:
            return self._notice
        if self._done:
            return f"done (all {self.until})"
        return self._waits() or "running"

    def __repr__(self) -> str:
        rows = "no rows yet" if self._table is None else plural(len(self._table.rows), "row")
        return f"{self.label}: {rows}, {self.status}"

    def display_text(self) -> str:
        """What the view is, not what it shows: the rows race with the refresher."""
        return f"Live table of {self.label}"

    def shown_text(self) -> str:
        """The rows as text, then the one-line state."""
        return repr(self) if not self._table or not self._table.rows else f"{self._table.text()}\n{self!r}"

    def _draw(self, value) -> bool:
        self.polls += 1
        self._last_at = time.monotonic()
        self._notice = None
        try:
            table = make_table(value)
        except ValueError as error:
            self._end(str(error))
            return True
        if table != self._table:
            self._table = table
            self._last_change = (self.polls, self._elapsed())
        self._done = self.until is not None and table.all_equal(self.until)
        set_traits(self.widget, value=self._html())
        if self._done:
            self._end()
        return self._done

    def _draw_pause(self, notice: str) -> None:
        self._notice = notice
        self._draw_outage()

    def _draw_outage(self) -> None:
        set_traits(self.widget, value=self._html())

    _draw_wait = _draw_outage  # the status line says how long readings have not come

    def _elapsed(self) -> float:
        return time.monotonic() - self._started

    def _html(self) -> str:
        table = "" if self._table is None else self._table.html()
        return f"{table}<div style='{self._style()}'>{escape(self._status_line())}</div>"

    def _style(self) -> str:
        """Red once failed; orange while the actor restarts or readings are late; else gray."""
        if self._reason is not None:
            return FAILED_STYLE
        late = self._last_at is not None and self._waits() is not None
        return PAUSED_STYLE if self._notice is not None or late else STATUS_STYLE

    def _status_line(self) -> str:
        if self._reason is not None or self._done or self._notice is not None:
            return f"{self.status} · {plural(self.polls, 'poll')}, {format_interval(self._elapsed())}"
        waits = self._waits()
        if waits is not None:
            return waits
        poll, elapsed = self._last_change
        return f"last change at poll {poll}, {format_interval(elapsed)} · polling every {self.interval:g} s"

    def _waits(self) -> str | None:
        """How long readings have not come (the first, or the next when late); None while they come."""
        if self._done:
            return None
        now = time.monotonic()
        if self._last_at is None:
            return waiting_text(now - self._started)
        late = now - self._last_at
        return slow_text(late) if late > slow_after(self.interval) else None
