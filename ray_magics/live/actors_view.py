"""The `%actors` view: the actor table in one HTML widget, drawn once or kept live.

Each poll reads the GCS's actor table (quick, no dashboard) in the refresher's thread and
collects the call counts that tracked actors have answered; text front ends see the
table as aligned text: `repr(view)`.
"""

import time
from html import escape

import ipywidgets as widgets

from ..classes.count_reader import CallCountReader
from ..cluster.facts import read_actors
from .drawing import set_traits
from .listing import Listing, choose, listing_table, render_html, render_text
from .view import LiveView

FIRST_COUNTS_WAIT = 1.0  # the first drawing waits this long for call counts
LIVE_COUNTS_WAIT = 0.05  # later polls wait this long; slower answers show at the next poll
STOPPED_STYLE = "color:red"


class ActorsView(LiveView):
    """The cluster's actors (dead ones too with `include_dead`), optionally of one class.

    With an `interval` it is refreshed by the shared refresher until it ends.
    """

    def __init__(self, include_dead: bool = False, class_name: str | None = None, interval: float | None = None):
        super().__init__()
        self.interval = interval
        self.include_dead = include_dead
        self.class_name = class_name
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
        counts = self._reader.read(actors, counts_wait)
        return Listing(actors, counts, int(time.time() * 1000), self.class_name)
