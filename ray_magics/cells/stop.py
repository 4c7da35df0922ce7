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
from dataclasses import dataclass

from ..classes.counting import COUNTS_METHOD
from ..classes.submissions import announce, listen, stop_listening
from ..ray_internals import announce_client_calls, through_client
from ..session.ray_import import import_ray, ray_imported
from ..settings import current

PRUNE_EVERY = 1000  # calls kept before the finished ones are let go, so their results can be freed


@dataclass(frozen=True)
class SubmittedCall:
    target: object  # what `ray.cancel` takes: the call's object ref, or its generator
    done: object  # an object ref that is ready once the call has finished
    asynchronous: bool | None  # whether the actor is async (a running call is cancelled too); None: unknown


def submitted_call(refs, asynchronous: bool | None) -> SubmittedCall | None:
    """The call that returned `refs` (an object ref, a list of them, a generator, or None)."""
    if isinstance(refs, (list, tuple)):
        refs = refs[0] if refs else None
    if refs is None:  # `num_returns=0`: nothing to wait for or cancel
        return None
    completed = getattr(refs, "completed", None)  # a streaming generator's end
    return SubmittedCall(refs, completed() if completed else refs, asynchronous)


class CellCalls:
    """The calls the running cell has submitted to tracked actors, finished or not."""

    def __init__(self):
        self._calls: list[SubmittedCall] = []
        self._prune_at = PRUNE_EVERY

    def submitted(self, refs, asynchronous: bool | None) -> None:
        """A listener of `classes.submissions`: keeps the calls made by the kernel's main thread."""
        if threading.current_thread() is not threading.main_thread():
            return
        call = submitted_call(refs, asynchronous)
        if call is None:
            return
        self._calls.append(call)
        if len(self._calls) >= self._prune_at:
            self._calls = self.unfinished()
            self._prune_at = len(self._calls) + PRUNE_EVERY

    def unfinished(self) -> list[SubmittedCall]:
        if not self._calls:  # (before Ray is asked: Ctrl-C may come while Ray is still being imported)
            return []
        ray = import_ray()
        if not ray.is_initialized():  # Ray shut down under the cell: its calls are gone
            return []
        done = [call.done for call in self._calls]
        _, pending = ray.wait(done, num_returns=len(done), timeout=0, fetch_local=False)
        pending = set(pending)
        return [call for call in self._calls if call.done in pending]

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
        self._calls = []
        self._prune_at = PRUNE_EVERY


def cancelled_notice(cancelled: list[SubmittedCall]) -> str:
    """The one line a cell shows when Stop cancelled its calls."""
    count = len(cancelled)
    line = f"cancelled {count} pending actor call{'' if count == 1 else 's'}"
    if not all(call.asynchronous for call in cancelled):
        line += " (a sync actor finishes the call it is running: Ray cannot interrupt it)"
    return line


class StopCancelsCalls:
    """Cancels the interrupted cell's unfinished actor calls, on `shell`'s cell events."""

    def __init__(self, shell):
        self.shell = shell
        self.calls = CellCalls()

    def register(self) -> None:
        listen(self.calls.submitted)
        self.shell.events.register("pre_run_cell", self.cell_starts)
        self.shell.events.register("post_run_cell", self.cell_ends)

    def unregister(self) -> None:
        stop_listening(self.calls.submitted)
        for event, callback in (("pre_run_cell", self.cell_starts), ("post_run_cell", self.cell_ends)):
            if callback in self.shell.events.callbacks[event]:
                self.shell.events.unregister(event, callback)

    def cell_starts(self, info) -> None:
        self.calls.forget()
        # Ray Client's calls are announced from the cell after the one that connected
        if ray_imported() and through_client():
            announce_client_calls(announce, COUNTS_METHOD)

    def cell_ends(self, result) -> None:
        if isinstance(result.error_in_exec, KeyboardInterrupt) and current().cancel_on_interrupt:
            cancelled = self.calls.cancel()
            if cancelled:
                print(cancelled_notice(cancelled), flush=True)
        self.calls.forget()
