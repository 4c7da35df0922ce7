"""Waiting explained: a cell that waits on an actor which cannot be placed says why, in one line.

While a cell runs, the actors it creates, those it calls that an earlier cell left unplaced, and
the one a `--wait` magic waits on (`watch`), are watched by a thread of their own
(`THREAD_NAME`). It first looks at the GCS `SHOW_AFTER` seconds after a wait began, so that a
placement quicker than that shows nothing, then every `LOOK_EVERY` seconds while one is still
pending (`cluster.placement` judges why; a wait for what only tasks or placement groups hold
shows after `BEHIND_TASKS_AFTER`: tasks end by themselves). Actors that wait for the same reason
share a line (`wait_lines`), which names who holds what they need and the cell that created
those (`origins`); once they are placed it says after how long.

In a kernel the lines are one display of the cell, updated in place, and sent to that cell
alone; in a terminal each line is printed once, and its end once. The watch ends with its cell:
after one last look if the cell finished (so that its line shows the placement that let it
finish), at once if it was stopped. The actors it left unplaced are looked at once more, and
later cells' calls are heard (`classes.submissions`) only while one of them is still pending.
The thread exits when nothing is watched, and never holds up a cell or Ctrl-C.
`RayMagics.explain_waits` turns it off.
"""

import threading
import time
import uuid
from dataclasses import dataclass, field

from ..classes.submissions import (
    called_actor,
    listen,
    listen_to_creations,
    stop_listening,
    stop_listening_to_creations,
)
from ..cluster.placement import Wait, read_placement, why_waiting
from ..ray_internals import actor_id, placement_cpus
from ..session.background import connected_ray
from .cell_events import CellBehaviour
from .cell_output import Sink
from .origins import CellOrigins
from .wait_lines import ended_line, placed_line, waiting_line, who

SHOW_AFTER = 1.75  # seconds a wait lasts before its first look: its line then shows within 2 s
BEHIND_TASKS_AFTER = 10.0  # seconds before a wait for what no actor holds (tasks, placement groups) shows
LOOK_EVERY = 0.5  # seconds between looks while an actor is pending
TOGETHER = 0.25  # actors due this soon are looked at with those due now
JOIN_TIMEOUT = 2.0
THREAD_NAME = "ray_magics-waits"


@dataclass(eq=False)
class Group:
    """Actors of one class waiting for the same resources: one line."""

    class_name: str
    needs: dict
    since: float  # when the first of them began to wait
    wait: Wait  # why, as last seen
    members: list[str] = field(default_factory=list)  # hex ids, in order
    pending: set[str] = field(default_factory=set)
    placed_at: float | None = None  # when the last of them was seen placed; None while none was

    def left(self, actor: str, placed: bool, now: float) -> None:
        """`actor` is no longer pending: placed, or ended."""
        self.pending.discard(actor)
        if placed:
            self.placed_at = now

    def line(self, origins: CellOrigins) -> str:
        if self.pending:
            first = next(member for member in self.members if member in self.pending)
            named = who(self.class_name, first, len(self.pending) - 1)
            return waiting_line(named, len(self.pending), self.wait, origins.origin, origins.stale)
        named = who(self.class_name, self.members[0], len(self.members) - 1)
        return ended_line(named) if self.placed_at is None else placed_line(named, self.placed_at - self.since)


@dataclass(eq=False)
class Watched:
    """An actor a cell waits on, until it is no longer pending."""

    placement_cpus: int | None
    since: float
    due: float  # when to look next
    group: Group | None = None


class CellLines:
    """Where one cell's lines go: a display of the cell, updated in place (a kernel), or this process's
    stdout, each line printed once, and the end of each group once (a terminal)."""

    def __init__(self, sink: Sink):
        self.sink = sink
        self.parent = sink.parent()  # None: no kernel
        self.display_id = uuid.uuid4().hex
        self.text = ""
        self.printed: set[tuple[Group, bool]] = set()

    def show(self, groups: list[Group], origins: CellOrigins) -> None:
        if self.parent is None:
            for group in groups:
                if (group, not group.pending) not in self.printed:
                    self.printed.add((group, not group.pending))
                    print(group.line(origins), flush=True)
            return
        text = "\n".join(group.line(origins) for group in groups)
        if text != self.text:
            self.sink.display(self.parent, self.display_id, text, first=not self.text, running=False)
            self.text = text


@dataclass(eq=False)
class CellWatch:
    """What one cell waits on, and the lines it shows."""

    lines: CellLines
    watched: dict[str, Watched] = field(default_factory=dict)  # hex id -> its watch
    groups: list[Group] = field(default_factory=list)
    over: bool = False

    def next_due(self) -> float | None:
        return min((each.due for each in self.watched.values()), default=None)

    def group_for(self, class_name: str, wait: Wait, since: float) -> Group:
        for group in self.groups:
            if (group.class_name, group.needs, group.wait.impossible) == (class_name, wait.needs, wait.impossible):
                group.since = min(group.since, since)
                return group
        self.groups.append(Group(class_name, wait.needs, since, wait))
        return self.groups[-1]

    def waiting(self) -> bool:
        return any(group.pending for group in self.groups)


class WaitsExplained(CellBehaviour):
    """Explains the running cell's waits for actors to be placed, on `shell`'s cell events, as
    `settings.explain_waits` says; `origins` tells which cell run created an actor."""

    def __init__(self, shell, settings, origins: CellOrigins):
        super().__init__(shell, settings)
        self.origins = origins
        self.sink = Sink(shell)
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.cell: CellWatch | None = None
        self.ending: list[CellWatch] = []  # ended cells, each waiting for its last look
        self.earlier: dict[str, Watched] = {}  # actors ended cells left unplaced -> their last watch
        self.prune = False  # whether to look which of `earlier` are still pending
        self.thread: threading.Thread | None = None

    def listen(self, on: bool) -> None:
        (listen_to_creations if on else stop_listening_to_creations)(self.created)
        if not on:
            stop_listening(self.called)
            with self.lock:
                self.cell, self.ending, self.earlier, thread = None, [], {}, self.thread
            self.wake.set()
            if thread is not None:
                thread.join(JOIN_TIMEOUT)

    # ----------------------------------------------------------------- the kernel's main thread

    def cell_starts(self, info) -> None:
        with self.lock:
            self.cell = CellWatch(CellLines(self.sink))

    def cell_ends(self, result) -> None:
        stopped = isinstance(getattr(result, "error_in_exec", None), KeyboardInterrupt)
        with self.lock:
            cell, self.cell = self.cell, None
            if cell is None:
                return
            cell.over = True
            if cell.waiting() and not stopped and cell.lines.parent is not None:
                self.ending.append(cell)
            self.earlier.update(cell.watched)
            if self.earlier:
                listen(self.called)
                self.prune = True
                self._start()
        self.wake.set()

    def created(self, handle, actor_class) -> None:
        """A listener of `classes.submissions`: the running cell waits on the actors it creates."""
        self.watch(handle)

    def called(self, refs, asynchronous) -> None:
        """A listener of `classes.submissions` while earlier cells left actors unplaced: the running
        cell waits on those it calls."""
        actor = called_actor(refs)
        if actor in self.earlier:
            self._watch(actor, self.earlier[actor].placement_cpus)

    def watch(self, handle) -> None:
        """Explain it if the running cell waits for the actor of `handle` to be placed."""
        self._watch(actor_id(handle), placement_cpus(handle))

    def _watch(self, actor: str, cpus: int | None) -> None:
        if not self.settings.explain_waits:
            return
        now = time.monotonic()
        with self.lock:
            cell = self.cell
            if cell is None or actor in cell.watched:
                return
            cell.watched[actor] = Watched(cpus, now, now + SHOW_AFTER)
            self._start()

    def _start(self) -> None:
        """Start the thread if it is not running (under the lock)."""
        if self.thread is None:
            self.thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)
            self.thread.start()

    # ----------------------------------------------------------------- the watcher's thread

    def _run(self) -> None:
        while True:
            with self.lock:
                ending, self.ending = self.ending, []
                prune, self.prune = self.prune, False
                cell = self.cell
                due = cell.next_due() if cell is not None else None
                if not ending and not prune and due is None:
                    self.thread = None
                    return
                self.wake.clear()
            for each in ending:
                self._look(each, last=True)
            if prune:
                self._prune()
            if not ending and not prune and not self.wake.wait(max(0.0, due - time.monotonic())):
                self._look(cell)

    def _prune(self) -> None:
        """Forget the actors of `earlier` no longer pending (one created less than `SHOW_AFTER` ago may
        not be known to the GCS yet: it is looked at again at the next cell's end); stop hearing calls
        once none is left."""
        with self.lock:
            old = time.monotonic() - SHOW_AFTER
            asked = {actor: each.placement_cpus for actor, each in self.earlier.items() if each.since <= old}
        if not asked:
            return
        try:
            with connected_ray() as ray:
                pending = set() if ray is None else set(read_placement(asked, judge=False).pending)
        except Exception:  # noqa: BLE001 - kept until the next cell's end looks again
            return
        with self.lock:
            for actor in set(asked) - pending:
                self.earlier.pop(actor, None)
            if not self.earlier:
                stop_listening(self.called)

    def _look(self, cell: CellWatch, last: bool = False) -> None:
        """Read the GCS for the actors of `cell` due a look (all of them, for its `last` look), and show
        what changed."""
        now = time.monotonic()
        with self.lock:
            asked = {
                actor: each.placement_cpus for actor, each in cell.watched.items()
                if (each.group is not None if last else each.due <= now + TOGETHER)
            }
        if not asked:
            return
        try:
            with connected_ray() as ray:
                facts = None if ray is None else read_placement(asked)
        except Exception:  # noqa: BLE001 - a look that fails is made again later
            facts = False
        now = time.monotonic()
        with self.lock:
            if facts is None:  # Ray is gone: nothing more to wait for
                cell.watched.clear()
                return
            for actor in asked:
                each = cell.watched.get(actor)
                if each is not None:
                    each.due = now + LOOK_EVERY
                    if facts is not False:
                        self._judge(cell, actor, each, facts, now)
            if facts is not False and (last or not cell.over):
                cell.lines.show(cell.groups, self.origins)

    @staticmethod
    def _judge(cell: CellWatch, actor: str, each: Watched, facts, now: float) -> None:
        pending = facts.pending.get(actor)
        if pending is None:  # placed, or ended
            del cell.watched[actor]
            if each.group is not None:
                each.group.left(actor, actor in facts.alive, now)
            return
        wait = why_waiting(pending, facts)
        if wait is None:
            return
        if each.group is None and not (wait.holders or wait.impossible) and now - each.since < BEHIND_TASKS_AFTER:
            return  # behind tasks, which end by themselves: a queue, not yet a wait worth a line
        if each.group is None:
            each.group = cell.group_for(pending.class_name, wait, each.since)
            each.group.members.append(actor)
            each.group.pending.add(actor)
        each.group.wait = wait
