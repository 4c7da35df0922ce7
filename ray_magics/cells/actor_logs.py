"""What each tracked actor wrote, kept in the kernel and shown again: `%actor_logs` and
`ray_magics.logs`.

Every line a tracked actor writes (stdout and stderr) reaches the kernel tagged with the call
it served (`prints`), from any node and through Ray Client, whichever cell it then goes to, or
none. The last `LINES_KEPT` lines of each actor, at most `CHARS_KEPT` characters, are kept here in
the kernel's memory, for the `ACTORS_KEPT` actors that wrote last: an actor that prints megabytes
keeps only its latest lines, and a dead actor's lines stay. Each is shown with the cell it went
to: `In [3]`, `this cell` while that cell runs, `no cell`.
"""

import sys
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass

from ..cluster.actor_lookup import find_actor
from ..cluster.facts import DEAD, read_actor
from ..errors import InputError
from ..session import lifecycle

LINES_KEPT = 1000  # lines kept of each actor: its latest
CHARS_KEPT = 200_000  # characters kept of each actor at most: its latest lines that fit
ACTORS_KEPT = 256  # actors whose lines are kept: those that wrote last
NO_CELL = "no cell"
FOLLOW_LOOK = 0.25  # seconds between looks for new lines while following: Stop ends it as soon
STATE_EVERY = 1.0  # seconds between looks at whether the followed actor has ended
LAST_LINES_WAIT = 0.5  # seconds an ended actor's last lines have to arrive


@dataclass(frozen=True)
class LogLine:
    stream: str  # "stdout" or "stderr"
    text: str
    cell: object  # where it went (`prints.CellOutput`, with its `label()`), None for no cell

    def where(self) -> str:
        return self.cell.label() if self.cell is not None else NO_CELL


class ActorLog:
    """One actor's latest lines, and how many it wrote in all."""

    def __init__(self):
        self.lines: deque[LogLine] = deque()
        self.chars = 0
        self.written = 0

    def add(self, line: LogLine) -> None:
        self.lines.append(line)
        self.chars += len(line.text)
        self.written += 1
        while len(self.lines) > LINES_KEPT or (self.chars > CHARS_KEPT and len(self.lines) > 1):
            self.chars -= len(self.lines.popleft().text)

    def since(self, written: int) -> list[LogLine]:
        """The lines kept of those written after the first `written`."""
        new = self.written - written
        return list(self.lines)[-new:] if new > 0 else []


class ActorLogs:
    """The kept lines of every actor (hex id -> `ActorLog`); `arrived` is notified of each batch."""

    def __init__(self):
        self.logs: OrderedDict[str, ActorLog] = OrderedDict()
        self.arrived = threading.Condition()

    def add(self, lines: list[tuple[str, LogLine]]) -> None:
        """Keep `(actor, line)` pairs, in the order written."""
        with self.arrived:
            for actor, line in lines:
                log = self.logs.get(actor)
                if log is None:
                    log = self.logs[actor] = ActorLog()
                    if len(self.logs) > ACTORS_KEPT:
                        self.logs.popitem(last=False)
                self.logs.move_to_end(actor)
                log.add(line)
            self.arrived.notify_all()

    def actors(self) -> list[str]:
        with self.arrived:
            return list(self.logs)

    def last(self, actor: str, n: int) -> tuple[list[LogLine], int]:
        """The actor's last `n` lines kept, and how many it wrote in all."""
        with self.arrived:
            log = self.logs.get(actor)
            if log is None:
                return [], 0
            return list(log.lines)[-n:] if n else [], log.written

    def wait_since(self, actor: str, written: int, timeout: float) -> tuple[list[LogLine], int]:
        """The lines the actor wrote after its first `written`, waiting up to `timeout` seconds for one."""
        with self.arrived:
            self.arrived.wait_for(lambda: self._written(actor) > written, timeout)
            log = self.logs.get(actor)
            return (log.since(written), log.written) if log is not None else ([], written)

    def _written(self, actor: str) -> int:
        log = self.logs.get(actor)
        return log.written if log is not None else 0


def shown(lines: list[LogLine]) -> list[tuple[str, str]]:
    """(stream, text) of each line as `%actor_logs` shows it: `In [3]  text`, the cells aligned."""
    width = max((len(line.where()) for line in lines), default=0)
    return [(line.stream, f"{line.where():<{width}}  {line.text}") for line in lines]


def logs(actor, n=50) -> list[str]:
    """The last `n` lines that `actor` (a handle, or 8 or more hex digits of its id) wrote, each
    after the cell it went to: `In [3]  text`. Its stdout and stderr, in order, as the loaded
    extension kept them (`%actor_logs` shows them); a dead actor's too."""
    store = _store()
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise InputError(f"n must be a whole number ≥ 0, got {n!r}")
    lines, _ = store.last(find_actor(actor, store.actors()), n)
    return [text for _, text in shown(lines)]


def show_logs(store: ActorLogs, target, n: int, follow: bool) -> None:
    """Print the last `n` lines of the actor `target` names (`%actor_logs`); with `follow`, then its
    new lines as they come, until Stop or the actor's end."""
    actor = find_actor(target, store.actors())
    facts = read_actor(actor)
    name = f"{facts.class_name} ({facts.short_id})" if facts else f"actor {actor[:8]}"
    lines, written = store.last(actor, n)
    _print(lines)
    if not follow:
        if not lines:
            print(f"no lines of {name} reached this kernel")
        return
    try:
        look_at_state = 0.0
        while True:
            if time.monotonic() >= look_at_state:
                look_at_state = time.monotonic() + STATE_EVERY
                facts = read_actor(actor)
                if facts is None or facts.state == DEAD:
                    _print(store.wait_since(actor, written, LAST_LINES_WAIT)[0])
                    print(f"{name} ended" + (f": {facts.death_cause}" if facts and facts.death_cause else ""))
                    return
            lines, written = store.wait_since(actor, written, FOLLOW_LOOK)
            _print(lines)
    except KeyboardInterrupt:  # Stop ends following: the lines shown are the cell's output
        return


def _print(lines: list[LogLine]) -> None:
    for stream, text in shown(lines):
        print(text, file=sys.stderr if stream == "stderr" else sys.stdout, flush=True)


def _store() -> ActorLogs:
    if _kept is None:
        raise InputError("no lines are kept: %load_ext ray_magics keeps what tracked actors write")
    lifecycle.check_running()
    return _kept


_kept: ActorLogs | None = None  # the lines the loaded extension keeps


def keep(logs: ActorLogs | None) -> None:
    """Make `logs` the ones `ray_magics.logs` reads (the loaded extension's; None when unloaded)."""
    global _kept
    _kept = logs


def kept() -> ActorLogs | None:
    return _kept
