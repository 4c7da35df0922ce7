"""Which cell run created which actor, and which of those actors are stale: the one record of
actors' origins.

Each run of a cell is a `CellRun`: the front end's cell id where it sends one (JupyterLab,
Notebook 7 and VS Code do), else the cell's source, and its execution count (`In [3]`), known
once the run ends. A tracked actor created while a cell runs (`classes.submissions`' creation
word) is recorded with that run, and with the `%%actor` run that made its class if one did; one
created between cells, with the latest run. Actors that other actors created, and those of
other drivers, have no origin here.

An actor is stale once a run it came from is superseded: the cell that created it ran again, or
the `%%actor` cell that made its class did. Detached and named actors never are (`stale` takes
their facts from the GCS).
"""

import itertools
from dataclasses import dataclass

from ..classes.submissions import listen_to_creations, stop_listening_to_creations
from ..ray_internals import actor_id
from .cell_events import CellBehaviour

ORIGINS_KEPT = 100_000  # actors remembered with their cell run; the oldest are forgotten first


def run_label(count: int | None) -> str:
    """How a cell run is named: `In [3]` by its execution count, `this cell` while it runs."""
    return "this cell" if count is None else f"In [{count}]"


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
        return run_label(self.count)


@dataclass(frozen=True)
class Origin:
    """Where an actor came from: the run that created it, and the `%%actor` run that made its class."""

    run: CellRun
    class_run: CellRun | None


_recording: "CellOrigins | None" = None  # the record of the loaded extension


def recording() -> "CellOrigins | None":
    """The record the loaded extension keeps (the Python API lists origins with it); None if unloaded."""
    return _recording


class CellOrigins(CellBehaviour):
    """Records the cell run that created each actor, on `shell`'s cell events."""

    def __init__(self, shell, settings):
        super().__init__(shell, settings)
        self.running: CellRun | None = None
        self.latest: CellRun | None = None
        self.latest_of: dict[tuple[str, str], CellRun] = {}  # a cell that made actors or classes -> its latest run
        self.origins: dict[str, Origin] = {}  # actor hex id -> where it came from
        self.class_runs: dict[int, tuple[object, CellRun]] = {}  # id of an actor class -> (it, its %%actor run)

    def listen(self, on: bool) -> None:
        global _recording
        (listen_to_creations if on else stop_listening_to_creations)(self.created)
        if on:
            _recording = self
        elif _recording is self:
            _recording = None

    def cell_starts(self, info) -> None:
        self.running = self.latest = CellRun(getattr(info, "cell_id", None), info.raw_cell)
        if self.running.cell in self.latest_of:  # a cell that made actors or classes, run again
            self.latest_of[self.running.cell] = self.running

    def cell_ends(self, result) -> None:
        if self.running is not None:
            self.running.count = result.execution_count
        self.running = None

    def classes_made(self, actor_classes) -> None:
        """The `%%actor` cell running now made these actor classes."""
        if self.running is not None:
            self.latest_of[self.running.cell] = self.running
            for actor_class in actor_classes:  # kept, so that an id is never another class's
                self.class_runs[id(actor_class)] = (actor_class, self.running)

    def created(self, handle, actor_class) -> None:
        """A listener of `classes.submissions`: the actor belongs to the running run (or the latest)."""
        run = self.running or self.latest
        if run is None:
            return
        self.latest_of.setdefault(run.cell, run)
        made = self.class_runs.get(id(actor_class))
        self.origins[actor_id(handle)] = Origin(run, made[1] if made else None)
        if len(self.origins) > ORIGINS_KEPT:
            for old in list(itertools.islice(self.origins, ORIGINS_KEPT // 10)):
                del self.origins[old]

    def origin(self, actor: str) -> CellRun | None:
        """The cell run that created the actor (hex id), None if no cell of this kernel did."""
        origin = self.origins.get(actor)
        return origin.run if origin else None

    def created_by_earlier_runs(self, run: CellRun) -> set[str]:
        """The actors (hex ids) that runs of `run`'s cell before it created."""
        return {
            actor for actor, origin in self.origins.items() if origin.run.cell == run.cell and origin.run is not run
        }

    def superseded(self, run: CellRun) -> bool:
        """Whether the cell of `run` has run again since."""
        return self.latest_of.get(run.cell, run) is not run

    def stale(self, facts) -> bool:
        """Whether the actor of `facts` (`cluster.facts.ActorFacts`) is stale: one of the runs it came
        from is superseded, and it is neither detached nor named."""
        origin = self.origins.get(facts.actor_id)
        if origin is None or facts.detached or facts.name:
            return False
        return self.superseded(origin.run) or (origin.class_run is not None and self.superseded(origin.class_run))
