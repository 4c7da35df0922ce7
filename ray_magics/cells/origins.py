"""Which cell run created which actor: the one record of actors' origins.

Each run of a cell is a `CellRun`: the front end's cell id where it sends one (JupyterLab,
Notebook 7 and VS Code do), else the cell's source, and its execution count (`In [3]`), known
once the run ends. A tracked actor created while a cell runs (`classes.submissions`' creation
word) is recorded with that run; one created between cells, with the latest. Actors that other
actors created, and those of other drivers, have no origin here.
"""

import itertools
from dataclasses import dataclass

from ..classes.submissions import listen_to_creations, stop_listening_to_creations
from ..ray_internals import actor_id
from .cell_events import CellBehaviour

ORIGINS_KEPT = 100_000  # actors remembered with their cell run; the oldest are forgotten first


@dataclass(eq=False)
class CellRun:
    """One run of a cell."""

    cell_id: str | None  # the front end's id of the cell, None where it sends none
    source: str
    count: int | None = None  # its execution count, once it has ended

    @property
    def cell(self) -> tuple[str, str]:
        """What tells one cell from another across runs: its id, else its source."""
        return ("id", self.cell_id) if self.cell_id else ("source", self.source)

    def label(self) -> str:
        return "this cell" if self.count is None else f"In [{self.count}]"


class CellOrigins(CellBehaviour):
    """Records the cell run that created each actor, on `shell`'s cell events."""

    def __init__(self, shell, settings):
        super().__init__(shell, settings)
        self.running: CellRun | None = None
        self.latest: CellRun | None = None
        self.runs: dict[str, CellRun] = {}  # actor hex id -> the run that created it

    def listen(self, on: bool) -> None:
        (listen_to_creations if on else stop_listening_to_creations)(self.created)

    def cell_starts(self, info) -> None:
        self.running = self.latest = CellRun(getattr(info, "cell_id", None), info.raw_cell)

    def cell_ends(self, result) -> None:
        if self.running is not None:
            self.running.count = result.execution_count
        self.running = None

    def created(self, handle) -> None:
        """A listener of `classes.submissions`: the actor belongs to the running run (or the latest)."""
        run = self.running or self.latest
        if run is None:
            return
        self.runs[actor_id(handle)] = run
        if len(self.runs) > ORIGINS_KEPT:
            for old in list(itertools.islice(self.runs, ORIGINS_KEPT // 10)):
                del self.runs[old]

    def origin(self, actor: str) -> CellRun | None:
        """The cell run that created the actor (hex id), None if no cell of this kernel did."""
        return self.runs.get(actor)
