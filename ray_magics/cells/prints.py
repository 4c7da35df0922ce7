"""Prints in the calling cell: what a tracked actor writes shows in the cell that made the call.

A tracked actor tags each line it writes with the call being served (`classes.tagged_output`).
Each call a cell submits is noted with the cell (`classes.submissions`), and each tracked
actor a cell creates too. Ray's printer hands the tagged lines here (`ray_internals.
claim_worker_output`) and keeps the rest; each line goes, tagged `(Name pid=…)` as Ray tags
it, to the cell that made the call, even after that cell has finished. Lines of no cell's
call (the constructor, calls from other actors or tasks, the actor's own threads) go to the
cell that created the actor. Where neither is known, a line goes to the cell running when
it arrives, or the latest one, its tag saying `cell unknown`.

When a cell ends, it waits (at most `SETTLE_SECONDS`) until each actor whose call from this
cell has finished has had every line it wrote so far arrive, so a notebook's outputs are the
same on every run; a call still running, or a cell that Stop ended, prints into its cell later. Lines
are numbered by their actor's process: one that arrives twice (two nodes of one machine
share their log files) is shown once. One cell shows at most `RayMagics.max_print_lines`
lines, then one `… N more lines` line that counts the rest: in a kernel a display updated in place
(at most every `COUNT_EVERY` seconds, its latest count always shown), in a terminal printed when
the cell ends (the lines left out later, when the next cell starts).

Ray's log monitor may cut a tagged line in pieces, and a long line is sent in parts: both are
joined before a line is shown (`line_pieces`), and no piece of ray_magics's marks is ever shown or
left to Ray.
"""

import itertools
import threading
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field

from ..classes.count_reader import tracked_method
from ..classes.submissions import (
    call_end,
    listen,
    listen_to_creations,
    stop_listening,
    stop_listening_to_creations,
)
from ..classes.tagged_output import LINES_WRITTEN_METHOD, TaggedLine, want_tags
from ..cluster.facts import one_actor_facts
from ..cluster.handles import poll
from ..cluster.remote_read import on_cluster
from ..errors import plural
from ..ray_internals import (
    actor_id,
    actor_part_of_task_id,
    claim_worker_output,
    plain_text,
    release_worker_output,
    through_client,
)
from ..session.ray_import import import_ray, ray_imported
from ..session.waits import SLICE, ready_within
from .actor_logs import ActorLogs, LogLine, keep
from .cell_events import CellBehaviour
from .cell_output import Sink
from .line_pieces import LinePieces, LongLines
from .origins import run_label

SETTLE_SECONDS = 2.0  # longest a cell waits at its end for the lines its calls wrote
TASKS_KEPT = 100_000  # calls remembered with their cell; the oldest are forgotten first
PLACE_EVERY = 1000  # calls submitted before they are placed in their cells, if no line asked first
COUNT_EVERY = 0.25  # seconds between two updates of a cell's count of the lines left out
COUNTS_THREAD = "ray_magics-counts"  # shows the latest count of the lines a cell left out
UNKNOWN_CELL = ", cell unknown)"


@dataclass(eq=False)
class CellOutput:
    """Where one cell's lines go, and how many it has shown and left out."""

    parent: dict | None  # the header of the cell's request (a kernel's), None in a terminal
    # actor hex id -> what marks the end of the cell's latest call to it; let go when the cell ends
    calls: dict | None = field(default_factory=dict)
    shown: int = 0
    left_out: int = 0
    reported: int = 0  # of `left_out`, those already said
    reported_at: float = 0.0
    count_id: str = field(default_factory=lambda: uuid.uuid4().hex)  # the display of its count, in a kernel
    ended: bool = False
    execution_count: int | None = None  # once it has ended

    def label(self) -> str:
        return run_label(self.execution_count)


class PrintRouting(CellBehaviour):
    """Shows tracked actors' lines in the cells that caused them, on `shell`'s cell events, as
    `settings.prints_in_cells` and `settings.max_print_lines` say."""

    def __init__(self, shell, settings):
        super().__init__(shell, settings)
        self.sink = Sink(shell)
        self.lock = threading.Lock()
        self.cell: CellOutput | None = None  # the running cell
        self.latest: CellOutput | None = None  # the running cell, or the last one
        self.cell_of_task: dict[bytes, CellOutput] = {}
        self.unplaced = deque()  # (refs, cell) of the calls submitted and not yet placed
        self.placing = threading.Lock()
        self.cell_of_actor: dict[str, CellOutput] = {}
        self.newest = Counter()  # (actor id, incarnation) -> number of the newest line arrived
        self.arrival = threading.Condition(self.lock)
        self.pending: set[CellOutput] = set()  # cells with lines left out and not yet said
        self.written = WrittenLines()
        self.pieces = LinePieces()
        self.long_lines = LongLines()
        self.count_timer: threading.Timer | None = None  # the next update of the counts, when one waits
        self.logs = ActorLogs()  # what each actor wrote, wherever it went

    def listen(self, on: bool) -> None:
        want_tags(on)
        keep(self.logs if on else None)
        (listen if on else stop_listening)(self.submitted)
        (listen_to_creations if on else stop_listening_to_creations)(self.created)
        if on:
            return
        release_worker_output()
        self.say_left_out(force=True)
        with self.lock:
            timer, self.count_timer = self.count_timer, None
        if timer is not None:
            timer.cancel()

    # ----------------------------------------------------------------- the kernel's main thread

    def cell_starts(self, info) -> None:
        self.say_left_out(force=True)
        self.cell = self.latest = CellOutput(self.sink.parent())
        self.claim_lines()

    def cell_ends(self, result) -> None:
        cell, self.cell = self.cell, None
        if cell is None:
            return
        with self.placing:  # (no call is placed in the cell after its calls are taken)
            self._place_calls()
            calls, cell.calls = cell.calls, None
        stopped = isinstance(getattr(result, "error_in_exec", None), KeyboardInterrupt)  # Stop ends it at once
        if _ray_running():
            self.claim_lines()
            if calls and self.settings.prints_in_cells and not stopped:
                self.settle(calls)
            self.show_stale_pieces()
        cell.ended, cell.execution_count = True, getattr(result, "execution_count", None)
        self.say_left_out(force=True)

    def claim_lines(self) -> None:
        """Take the workers' tagged lines from Ray's printer (again after each `ray.init`)."""
        if _ray_running():
            claim_worker_output(self.claim)

    def submitted(self, refs, asynchronous) -> None:
        """A listener of `classes.submissions`: the call belongs to the running cell (or the latest);
        which call it is, is looked at later (`place_calls`), in a batch."""
        self.unplaced.append((refs, self.cell or self.latest))
        if len(self.unplaced) >= PLACE_EVERY:
            self.place_calls()

    def place_calls(self) -> None:
        """Note the cell of each call submitted since last time (from any thread)."""
        with self.placing:
            self._place_calls()

    def _place_calls(self) -> None:
        while self.unplaced:  # (only appended to elsewhere: taken from under the lock alone)
            refs, cell = self.unplaced.popleft()
            end = call_end(refs)
            if cell is None or end is None:
                continue
            task = end.task_id().binary()
            self.cell_of_task[task] = cell
            if cell.calls is not None:
                cell.calls[actor_part_of_task_id(task)] = end
        if len(self.cell_of_task) > TASKS_KEPT:
            for old in list(itertools.islice(self.cell_of_task, TASKS_KEPT // 10)):
                del self.cell_of_task[old]

    def created(self, handle, actor_class) -> None:
        """A listener of `classes.submissions`: the actor belongs to the running cell (or the latest)."""
        cell = self.cell or self.latest
        if cell is not None:
            self.cell_of_actor[actor_id(handle)] = cell
            self.claim_lines()

    def settle(self, calls: dict) -> None:
        """Wait until every line written so far by the actors (hex ids) of `calls` whose call has
        finished (the object ref that marks its end is ready) has arrived."""
        deadline = time.monotonic() + SETTLE_SECONDS
        try:
            ready, _ = import_ray().wait(list(calls.values()), num_returns=len(calls), timeout=0, fetch_local=False)
            ready = set(ready)
            written = self.written.read([actor for actor, end in calls.items() if end in ready], SETTLE_SECONDS)
            with self.arrival:
                while True:
                    missing = {key: n for key, n in written.items() if self.newest[key] < n}
                    left = deadline - time.monotonic()
                    if not missing or left <= 0:
                        break
                    self.arrival.wait(min(left, SLICE))
                for key, count in missing.items():  # written before this kernel listened: never to come
                    self.newest[key] = count
        except KeyboardInterrupt:  # Ctrl-C at the cell's very end: its lines come when they come
            return
        except Exception:  # noqa: BLE001 - an actor or a cluster that fails to answer: its lines come when they come
            return

    # ----------------------------------------------------------------- Ray's log thread

    def show_stale_pieces(self, older_than: float = SETTLE_SECONDS) -> None:
        """Show the lines of which only a first piece or part came, `older_than` seconds ago, as far
        as they came: in their cells, or printed here as Ray would print them."""
        with self.lock:
            stale = self.pieces.stale(older_than)
        left = [(line, ray_tag) for piece, ray_tag in stale for line in self._route([piece], ray_tag)]
        with self.lock:
            long_lines = self.long_lines.stale(older_than)
        left += [(line, ray_tag) for long_line, ray_tag in long_lines for line in self._show([long_line], ray_tag)]
        for line, ray_tag in left:
            print(f"{ray_tag} {line}" if ray_tag else line)

    def claim(self, lines, ray_tag, source) -> list[str]:
        """Show the tagged `lines`, a batch from `source`, in their cells; returns the others, for
        Ray to print."""
        with self.lock:
            lines = self.pieces.whole(source, lines, ray_tag)
        return self._route(lines, ray_tag)

    def _route(self, lines: list[TaggedLine | str], ray_tag) -> list[str]:
        """Show the tagged `lines` in their cells, each once, with the parts of a long line joined;
        returns the others."""
        left, found = [], []
        with self.lock:
            for line in lines:
                if isinstance(line, str):
                    left.append(line)
                elif line.number > self.newest[line.actor, line.incarnation]:  # (else the same line again)
                    self.newest[line.actor, line.incarnation] = line.number
                    found.extend(self.long_lines.join(line, ray_tag))
        return left + self._show(found, ray_tag)

    def _show(self, lines: list, ray_tag) -> list[str]:
        """Show the tagged `lines` in their cells; returns those left to Ray, as Ray would print them."""
        left, batches, logged = [], {}, []
        settings = self.settings
        self.place_calls()
        with self.arrival:
            for line in lines:
                stream, text = line.stream, line.text
                cell = self._cell_of(line.actor, line.task)
                tag = ray_tag or plain_text(line.before).strip()
                if cell is None:
                    cell, tag = self.latest, tag[:-1] + UNKNOWN_CELL
                if cell is None or not settings.prints_in_cells:
                    logged.append((line.actor, LogLine(stream, text, None)))
                    left.append(f"{tag} {text}" if ray_tag is None else text)
                    continue
                logged.append((line.actor, LogLine(stream, text, cell)))
                if cell.shown >= settings.max_print_lines:
                    cell.left_out += 1
                    self.pending.add(cell)
                    continue
                cell.shown += 1
                batches.setdefault((cell, stream), []).append(f"{tag} {text}\n")
            self.arrival.notify_all()
        self.logs.add(logged)
        for (cell, stream), texts in batches.items():
            self.sink.show(cell.parent, stream, "".join(texts), running=cell is self.cell)
        self.say_left_out()
        return left

    def _cell_of(self, actor: str, task: str) -> CellOutput | None:
        cell = self.cell_of_task.get(bytes.fromhex(task)) if task else None
        return cell or self.cell_of_actor.get(actor)

    def say_left_out(self, force=False) -> None:
        """Show the count of the lines each cell left out, where it changed: in a kernel at most every
        `COUNT_EVERY` seconds (a timer shows the latest change), in a terminal only with `force`
        (a cell's start or end)."""
        now = time.monotonic()
        with self.lock:
            due = [
                cell for cell in self.pending
                if force or (cell.parent is not None and now - cell.reported_at >= COUNT_EVERY)
            ]
            for cell in due:
                self.pending.discard(cell)
                first = cell.reported == 0
                count = cell.left_out if cell.parent is not None else cell.left_out - cell.reported
                cell.reported, cell.reported_at = cell.left_out, now
                self.sink.display(cell.parent, cell.count_id, f"… {plural(count, 'more line')}", first,
                                running=cell is self.cell)
            if self.count_timer is None and any(cell.parent is not None for cell in self.pending):
                self.count_timer = threading.Timer(COUNT_EVERY, self._count_timer_fires)
                self.count_timer.name = COUNTS_THREAD
                self.count_timer.daemon = True
                self.count_timer.start()

    def _count_timer_fires(self) -> None:
        with self.lock:
            self.count_timer = None
        self.say_left_out()


def _ray_running() -> bool:
    return ray_imported() and import_ray().is_initialized()


class WrittenLines:
    """Asks tracked actors how many tagged lines they have written (the method of each kept by actor id)."""

    def __init__(self):
        self._methods = {}  # actor id -> its `LINES_WRITTEN_METHOD`, None while it cannot be reached

    def read(self, actors, timeout: float) -> dict[tuple[str, str], int]:
        """(Actor id, incarnation) -> lines written so far, for those of `actors` that answer within `timeout`.

        Through Ray Client, where no actor can be reached by its id, a task on the cluster reads.
        """
        if not actors:
            return {}
        if through_client():
            try:
                return on_cluster(read_in_task, list(actors), timeout, timeout=timeout + 1)
            except Exception:  # noqa: BLE001 - a read that fails waits for nothing
                return {}
        ray = import_ray()
        asked = {}
        for actor in actors:
            if self._methods.get(actor) is None:  # (one not reachable yet is looked up again next time)
                facts = one_actor_facts(actor)
                self._methods[actor] = facts and tracked_method(facts.handle_spec, LINES_WRITTEN_METHOD)
            if self._methods[actor] is not None:
                asked[actor] = poll(self._methods[actor])
        ready = ready_within(ray, list(asked.values()), timeout)
        written = {}
        for actor, ref in asked.items():
            if ref in ready:
                try:
                    incarnation, count = ray.get(ref)
                    written[actor, incarnation] = count
                except Exception:  # noqa: BLE001, S112 - an actor that died has no more lines to wait for
                    continue
        return written


def read_in_task(actors, timeout: float) -> dict[tuple[str, str], int]:
    """`WrittenLines().read` where Ray's core worker is: what a task on the cluster runs."""
    return WrittenLines().read(actors, timeout)

