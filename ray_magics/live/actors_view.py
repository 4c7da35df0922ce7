"""The `%actors` view: the actor table in one HTML widget, drawn once or kept live.

Each poll reads the GCS's actor table (quick, no dashboard) in the refresher's thread and
collects the call counts that tracked actors have answered; text front ends see the
table as aligned text: `repr(view)`.

Which actors it lists and its rows, as aligned text and escaped HTML, are plain data in and
strings out (`Listing`, `render_text`, `render_html`), so a thousand rows draw in milliseconds.
With the extension loaded, a `cell` column says which cell run created each actor (`In [3]`)
and marks the stale ones (`cells.origins`); `stale` lists only those.
"""

import time
from dataclasses import dataclass, field
from html import escape

import ipywidgets as widgets

from ..cells.ending_actors import stale_actors
from ..cells.origins import CellOrigins
from ..classes.count_reader import CallCountReader
from ..cluster.facts import DEAD, ActorFacts, read_actors
from ..errors import plural
from .drawing import PIECES, format_interval, html_table, set_traits, text_table
from .view import LiveView

COLUMNS = ("id", "class", "name", "state", "pid", "node", "restarts", "uptime", "calls")
CELL_COLUMN = "cell"  # after "name", where some actor listed came from a cell of this kernel
DEATH_COLUMN = "death cause"
STALE = " (stale)"
BUSY = "…"  # a tracked actor that did not answer in time
NO_CALLS = "no calls"
WIDEST_TEXT = 36  # characters of a column but the last in the text form; longer cells wrap


@dataclass
class Listing:
    """The chosen actors at one moment, with the call counts read for them."""

    actors: list[ActorFacts]
    counts: dict  # actor id -> CallCounts, or None while busy; untracked actors are absent
    now_ms: int
    class_name: str | None = None
    cells: dict[str, str] = field(default_factory=dict)  # actor id -> the cell run that created it, `In [3]`
    stale_only: bool = False


def cell_labels(origins: CellOrigins | None, actors: list[ActorFacts]) -> dict[str, str]:
    """Actor id -> `In [3]`, `In [3] (stale)`, for the actors that a cell of this kernel created."""
    labels = {}
    for facts in actors if origins is not None else ():
        run = origins.origin(facts.actor_id)
        if run is not None:
            labels[facts.actor_id] = run.label() + (STALE if origins.stale(facts) else "")
    return labels


def choose(actors: list[ActorFacts], include_dead: bool, class_name: str | None) -> list[ActorFacts]:
    """The actors to list, oldest first (those not started yet last)."""
    chosen = [
        facts for facts in actors
        if (include_dead or facts.state != DEAD) and (class_name is None or facts.class_name == class_name)
    ]
    return sorted(chosen, key=lambda facts: (not facts.start_ms, facts.start_ms, facts.actor_id))


def calls_text(counts) -> str:
    """`method 14 · get_name 2 (1 failed) · get_progress 0 (40 widget polls)`: the methods called
    (or polled by the live widgets) so far."""
    if counts is None:
        return BUSY
    parts = []
    for method in dict.fromkeys([*counts, *counts.polls]):
        notes = []
        if counts.failures.get(method):
            notes.append(f"{counts.failures[method]} failed")
        if counts.polls.get(method):
            notes.append(plural(counts.polls[method], "widget poll"))
        if counts.get(method) or notes:
            parts.append(f"{method} {counts.get(method, 0)}" + (f" ({', '.join(notes)})" if notes else ""))
    return PIECES.join(parts) or NO_CALLS


def listing_table(listing: Listing) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """The header and the rows of the listing, every cell a string."""
    with_death = any(facts.state == DEAD for facts in listing.actors)
    with_cell = bool(listing.cells)
    header = header_of(with_cell, with_death)
    rows = []
    for facts in listing.actors:
        uptime = facts.uptime(listing.now_ms)
        row = (
            facts.short_id,
            facts.class_name,
            facts.name,
            *((listing.cells.get(facts.actor_id, ""),) if with_cell else ()),
            facts.state,
            str(facts.pid) if facts.pid else "",
            facts.short_node_id,
            str(facts.restarts),
            "" if uptime is None else format_interval(uptime),
            calls_text(listing.counts[facts.actor_id]) if facts.actor_id in listing.counts else "",
        )
        rows.append(row + (facts.death_cause,) if with_death else row)
    return header, rows


def header_of(with_cell: bool, with_death: bool) -> tuple[str, ...]:
    at = COLUMNS.index("state")
    header = COLUMNS[:at] + (CELL_COLUMN,) + COLUMNS[at:] if with_cell else COLUMNS
    return header + (DEATH_COLUMN,) if with_death else header


def empty_text(listing: Listing) -> str:
    kind = "stale actors" if listing.stale_only else "actors"
    return f"No {kind} of class {listing.class_name!r}." if listing.class_name else f"No {kind}."


def render_text(listing: Listing) -> str:
    """The table as aligned plain text (trailing spaces stripped), long cells wrapped so that it stays
    readable at 120 characters: the calls of many methods, a long class or name."""
    header, rows = listing_table(listing)
    if not rows:
        return empty_text(listing)
    return text_table(header, rows, WIDEST_TEXT)


def render_html(listing: Listing) -> str:
    """The table as HTML, every value escaped and the state words coloured."""
    header, rows = listing_table(listing)
    if not rows:
        return f"<p>{escape(empty_text(listing))}</p>"
    return html_table(header, rows, "ray-magics-actors", state_columns={header.index("state")})


FIRST_COUNTS_WAIT = 1.0  # the first drawing waits this long for call counts
LIVE_COUNTS_WAIT = 0.05  # later polls wait this long; slower answers show at the next poll
STOPPED_STYLE = "color:red"


class ActorsView(LiveView):
    """The cluster's actors (dead ones too with `include_dead`), optionally of one class, or only
    the stale ones (`stale_only`), with the cells that created them as `origins` records them.

    With an `interval` it is refreshed by the shared refresher until it ends.
    """

    def __init__(self, include_dead: bool = False, class_name: str | None = None, interval: float | None = None,
                 origins: CellOrigins | None = None, stale_only: bool = False):
        super().__init__()
        self.interval = interval
        self.include_dead = include_dead
        self.class_name = class_name
        self.origins = origins
        self.stale_only = stale_only
        self._reader = CallCountReader()
        self.widget = widgets.HTML()
        self._listing = self._poll(FIRST_COUNTS_WAIT)
        self.show(self._listing)

    def request(self) -> Listing:
        return self._poll(LIVE_COUNTS_WAIT)

    def _draw(self, listing: Listing) -> bool:
        self._listing = listing
        set_traits(self.widget, value=render_html(listing))
        return False

    def _draw_outage(self) -> None:
        stopped = f"<p style='{STOPPED_STYLE}'>{escape(self._stopped_line())}</p>"
        set_traits(self.widget, value=render_html(self._listing) + stopped)

    @property
    def rows(self) -> list[dict]:
        """The rows shown, each a dict of column name to text."""
        header, rows = listing_table(self._listing)
        return [dict(zip(header, row, strict=True)) for row in rows]

    def __repr__(self) -> str:
        text = render_text(self._listing)
        return f"{text}\n{self._stopped_line()}" if self._reason is not None else text

    def _stopped_line(self) -> str:
        return f"stopped: {self._reason}"

    def _poll(self, counts_wait: float) -> Listing:
        actors = choose(read_actors(), self.include_dead, self.class_name)
        if self.stale_only:
            actors = stale_actors(self.origins, actors)
        counts = self._reader.read(actors, counts_wait)
        cells = cell_labels(self.origins, actors)
        return Listing(actors, counts, int(time.time() * 1000), self.class_name, cells, self.stale_only)
