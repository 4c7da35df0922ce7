"""Stop that stops: the kernel's interrupt cancels the actor calls the interrupted cell made.

While a cell runs, the calls it submits to tracked actors from the kernel's main thread are
kept (`CellCalls`, told by `classes.submissions`). When the cell ends in `KeyboardInterrupt`
(Jupyter's Stop, Ctrl-C, SIGINT), those not finished are cancelled with `ray.cancel` and the
cell says how many: queued calls never run, and an async actor's running call is cancelled. A
sync actor's running call finishes, as Ray cannot interrupt it; it can end early by checking
`ray.get_runtime_context().is_canceled()`. Magics that end their own waits on Ctrl-C (Ray's
start, `--wait`, `%actors`) end without the error, and so cancel nothing.
"""

import threading

from ..classes.submissions import SubmittedCall, call_end, listen, stop_listening, submitted_call
from ..errors import plural
from ..session.ray_import import import_ray
from .cell_events import CellBehaviour

PRUNE_EVERY = 1000  # new calls (at least) before the finished ones kept from before are let go


class CellCalls:
    """The calls the running cell has submitted to tracked actors, finished or not.

    Those finished are let go, so their results can be freed, once as many new calls as kept
    have come (never fewer than `PRUNE_EVERY`); only the calls kept from before are looked at
    then, as the newest have had no time to finish (a look at a pending call costs Ray
    several times that at a finished one).
    """

    def __init__(self):
        self._main_thread = threading.main_thread().ident
        self._fresh: list[tuple] = []  # (refs, asynchronous) as announced since the last look
        self._kept: list[tuple] = []  # those announced before it, and those it found unfinished
        self._prune_at = PRUNE_EVERY

    def submitted(self, refs, asynchronous) -> None:
        """A listener of `classes.submissions`: keeps the calls made by the kernel's main thread."""
        if threading.get_ident() != self._main_thread:
            return
        self._fresh.append((refs, asynchronous))
        if len(self._fresh) >= self._prune_at:
            self._kept = _unfinished(self._kept) + self._fresh
            self._fresh = []
            self._prune_at = max(PRUNE_EVERY, len(self._kept))

    def unfinished(self) -> list[SubmittedCall]:
        return [submitted_call(*announced) for announced in _unfinished(self._kept + self._fresh)]

    def cancel(self) -> list[SubmittedCall]:
        """Cancel the calls not finished; returns them."""
        cancelled = self.unfinished()
        if cancelled:
            ray = import_ray()
            for call in cancelled:
                ray.cancel(call.target)
        self.forget()
        return cancelled

    def forget(self) -> None:
        self._fresh, self._kept = [], []
        self._prune_at = PRUNE_EVERY


def _unfinished(announced: list[tuple]) -> list[tuple]:
    """Of the (refs, asynchronous) announced, those of the calls not finished yet."""
    ends = [(each, end) for each in announced if (end := call_end(each[0])) is not None]
    if not ends:  # (before Ray is asked: Ctrl-C may come while Ray is still being imported)
        return []
    ray = import_ray()
    if not ray.is_initialized():  # Ray shut down under the cell: its calls are gone
        return []
    _, pending = ray.wait([end for _, end in ends], num_returns=len(ends), timeout=0, fetch_local=False)
    pending = set(pending)
    return [each for each, end in ends if end in pending]


def cancelled_notice(cancelled: list[SubmittedCall]) -> str:
    """The one line a cell shows when Stop cancelled its calls."""
    count = len(cancelled)
    line = f"cancelled {plural(count, 'pending actor call')}"
    if not all(call.asynchronous for call in cancelled):
        line += " (a sync actor finishes the call it is running: Ray cannot interrupt it)"
    return line


class StopCancelsCalls(CellBehaviour):
    """Cancels the interrupted cell's unfinished actor calls, on `shell`'s cell events, as
    `settings.cancel_on_interrupt` says."""

    def __init__(self, shell, settings):
        super().__init__(shell, settings)
        self.calls = CellCalls()

    def listen(self, on: bool) -> None:
        (listen if on else stop_listening)(self.calls.submitted)

    def cell_starts(self, info) -> None:
        self.calls.forget()

    def cell_ends(self, result) -> None:
        if isinstance(result.error_in_exec, KeyboardInterrupt) and self.settings.cancel_on_interrupt:
            cancelled = self.calls.cancel()
            if cancelled:
                print(cancelled_notice(cancelled), flush=True)
        self.calls.forget()
