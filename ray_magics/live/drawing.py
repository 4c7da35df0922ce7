"""Small drawing helpers shared by the live views (none of them imports ipywidgets)."""

import textwrap
from html import escape

from ..cluster.facts import ALIVE, DEAD, DEPENDENCIES_UNREADY, PENDING_CREATION, RESTARTING

AMBER = "#d4a000"
PIECES = " · "  # between the pieces of a list in one cell, such as the calls of each method
SLOW_INTERVALS = 3  # intervals without a reading after which a view says how long ago the last came
SLOW_LEAST = 1.0  # seconds: a reading later than this (at least) is slow, however short the interval
STATE_COLOURS = {  # upper-case state words, an actor's and a job's; any other word starting with PENDING is amber too
    ALIVE: "green",
    "DONE": "green",
    "SUCCEEDED": "green",
    "RUNNING": "blue",
    "PENDING": AMBER,
    PENDING_CREATION: AMBER,
    DEPENDENCIES_UNREADY: AMBER,
    RESTARTING: "orange",
    DEAD: "red",
    "FAILED": "red",
}


def set_traits(widget, **values) -> None:
    """Change only the traits whose value differs, in one message."""
    changed = {name: value for name, value in values.items() if getattr(widget, name) != value}
    if changed:
        with widget.hold_sync():
            for name, value in changed.items():
                setattr(widget, name, value)


def format_interval(seconds: float) -> str:
    """`MM:SS`, or `H:MM:SS` from an hour on."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:d}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def state_colour(text: str) -> str | None:
    """The colour of a state word, in any case (None if `text` is not one)."""
    word = text.upper()
    return STATE_COLOURS.get(word) or (AMBER if word.startswith("PENDING") else None)


def state_html(state: str) -> str:
    """A state word, escaped and coloured by what it means; other text only escaped."""
    colour = state_colour(state)
    text = escape(state)
    return f"<span style='color:{colour};font-weight:bold'>{text}</span>" if colour else text


def html_table(header, rows, css_class: str, state_columns=None) -> str:
    """A left-aligned HTML table of strings, every cell escaped.

    Cells of the `state_columns` (indexes; every column if None) that are state words are coloured.
    """
    head = "".join(f"<th style='text-align:left'>{escape(name)}</th>" for name in header)
    body = "".join(
        "<tr>" + "".join(
            "<td style='text-align:left'>"
            f"{state_html(cell) if state_columns is None or index in state_columns else escape(cell)}</td>"
            for index, cell in enumerate(row)
        ) + "</tr>"
        for row in rows
    )
    return f"<table class='{escape(css_class)}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def text_table(header, rows, widest: int | None = None) -> str:
    """A table as aligned plain text, columns two spaces apart (trailing spaces stripped).

    With `widest`, a cell longer than that in any column but the last wraps onto lines of
    its own below (`wrap`), so that the columns after it stay in view.
    """
    if widest is not None:
        rows = [line for row in rows for line in wrapped_row(row, widest)]
    widths = [max(map(len, column)) for column in zip(header, *rows, strict=True)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in (header, *rows)
    )


def waiting_text(seconds: float) -> str:
    """What a view says while its first reading has not come."""
    return f"waiting for the first reading ({int(seconds)} s)"


def slow_text(seconds: float) -> str:
    """What a view says while its readings have not come for `slow_after` seconds."""
    return f"slow: last reading {int(seconds)} s ago"


def slow_after(interval: float) -> float:
    """Seconds without a reading after which a view polled every `interval` seconds is slow."""
    return max(SLOW_INTERVALS * interval, SLOW_LEAST)


def wrapped_row(row, widest: int) -> list[tuple[str, ...]]:
    """A row as the lines it takes when every cell but the last is wrapped to `widest` characters."""
    cells = [wrap(cell, widest) for cell in row[:-1]] + [[row[-1]]]
    return [tuple(lines[index] if index < len(lines) else "" for lines in cells)
            for index in range(max(map(len, cells)))]


def wrap(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` characters, broken between its ` · ` pieces where it can,
    else at a space, else inside a word."""
    if len(text) <= width:
        return [text]
    lines = []
    for piece in text.split(PIECES):
        if lines and len(lines[-1]) + len(PIECES) + len(piece) <= width:
            lines[-1] += PIECES + piece
        else:
            lines.extend(textwrap.wrap(piece, width) or [piece])
    return lines
