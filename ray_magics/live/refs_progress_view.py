"""A progress bar over ObjectRefs (tasks or actor calls): done is how many are ready.

No value is ever fetched (`cluster.object_states`). Each poll runs in the refresher's thread:
one `ray.wait` over the refs still pending, and a look at those newly ready. The bar turns
red with the first failure and goes on counting; at the end it is green, or stays red with
how many failed.
"""

import time
from dataclasses import dataclass

from ..cluster.object_states import UNSETTLED, outcomes, ready_among
from ..session.ray_import import import_ray
from .health import error_reason
from .progress_reading import Reading
from .progress_view import ProgressView

# What a ref's failure means, for Ray's errors whose first line names only the object.
OBJECT_FAILURES = {
    "OwnerDiedError": "the owner of the ref died (the worker that made it)",
    "ObjectLostError": "the object was lost with its node",
    "ObjectReconstructionFailedError": "the object was lost and could not be made again",
    "ObjectFreedError": "the object was freed",
    "ReferenceCountingAssertionError": "the object was deleted",
    "WorkerCrashedError": "the worker running the task died",
    "NodeDiedError": "the node running the task died",
    "TaskCancelledError": "the task was cancelled",
}


def failure_reason(error: BaseException) -> str:
    """One line on why a ref failed: the task's own exception, or what Ray lost."""
    if isinstance(error, import_ray().exceptions.RayTaskError) and error.cause is not None:
        return error_reason(error)
    kind = type(error).__name__
    return f"{kind}: {OBJECT_FAILURES[kind]}" if kind in OBJECT_FAILURES else f"{kind}: {error_reason(error)}"


@dataclass(frozen=True)
class RefsState:
    """What one poll found: refs done (failed ones included) of the total, and the failures."""

    done: int
    total: int
    failed: int = 0
    first_failure: str | None = None


class RefsProgressView(ProgressView):
    """A progress bar over `refs` (a list of ObjectRefs), polled every `interval` seconds."""

    actor_id = None  # no actor to watch: the refs themselves say when they fail

    def __init__(self, refs: list, interval: float, description: str | None = None, unit: str | None = None,
                 clock=time.monotonic):
        super().__init__(None, interval, description, unit, clock)
        self._pending = list(refs)
        self._state = RefsState(0, len(self._pending))

    def request(self) -> RefsState:
        """Look which pending refs are ready now (in the refresher's thread: quick, no value fetched)."""
        ready = ready_among(self._pending)
        if not ready:
            return self._state
        state = self._state
        settled = set()
        for ref, outcome in zip(ready, outcomes(ready), strict=True):
            if outcome is UNSETTLED:
                continue
            settled.add(ref)
            if outcome is not None:
                state = RefsState(state.done, state.total, state.failed + 1,
                                  state.first_failure or failure_reason(outcome))
        self._pending = [ref for ref in self._pending if ref not in settled]
        self._state = state = RefsState(state.total - len(self._pending), state.total, state.failed,
                                        state.first_failure)
        return state

    def _read(self, state: RefsState) -> Reading:
        if not state.total:
            return Reading(1.0, 0, 0)
        return Reading(state.done / state.total, state.done, state.total)

    def _failure(self) -> str | None:
        state = self._value
        if not state.failed:
            return None
        return f"{state.failed} of {state.total} refs, first {state.first_failure}"
