"""What `%actor_table` makes of a method's return value: a table of strings.

- a list (or tuple): a row per item, columns `#` (the item's index, from 0) and `value`;
- a dict: a row per key, columns `key` and `value`;
- a non-empty list of dicts: a row per dict, columns the union of their keys in first-seen
  order (a key a dict lacks is an empty cell).

`--until VALUE` compares as strings the list's items, the dict's values or, in a list of
dicts, the cells of its first state-like column (`state` or `status`, in any case), or
every cell if it has none. A table without rows is never done.

Plain data in, strings out: no Ray, no widgets.
"""

import reprlib
from collections.abc import Mapping
from dataclasses import dataclass

from .drawing import html_table, text_table

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
