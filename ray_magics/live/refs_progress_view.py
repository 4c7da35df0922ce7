"""A progress bar over ObjectRefs (tasks or actor calls): done is how many are ready.

No value is ever fetched (`cluster.object_states`). Each poll runs in the refresher's thread:
one `ray.wait` over the refs still pending, and a look at those newly ready. A poll looks at
10,000 refs at least; beyond that, so that a bar over very many refs stays cheap, at no more
than fit in 1.5% of a core, the longest-unlooked first. The bar turns red with the first
failure and goes on counting; at the end it is green, or stays red with how many failed.
"""

import time
from dataclasses import dataclass

from ..cluster.object_states import UNSETTLED, outcomes, ready_among
from ..session.ray_import import import_ray
from .health import error_reason
from .meter import Reading
from .progress_view import BarView

CPU_SHARE = 0.015  # of one core, the most a bar's looks at its refs may take (beyond `LEAST_LOOKED`)
LEAST_LOOKED = 10_000  # refs a look always takes, however slow the machine

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


class RefsProgressView(BarView):
    """A progress bar over `refs` (a list of ObjectRefs), polled every `interval` seconds.

    It has no actor to watch: the refs themselves say when they fail.
    """

    def __init__(self, refs: list, interval: float, description: str | None = None, unit: str | None = None,
                 clock=time.monotonic):
        super().__init__(interval, description, unit, clock)
        self._pending = list(refs)
        self._state = RefsState(0, len(self._pending))
        self._cost_per_ref = None  # CPU seconds the last look took per ref looked at

    def request(self) -> RefsState:
        """Look which pending refs are ready now (in the refresher's thread: quick, no value fetched).

        Beyond `LEAST_LOOKED` refs, a look takes at most `CPU_SHARE` of a core: when the
        pending refs are more than that allows, it takes the longest-unlooked share of them.
        """
        looked = self._pending[:self._looks_per_poll()]
        started = time.thread_time()
        ready = ready_among(looked)
        settled = set()
        failed, first_failure = self._state.failed, self._state.first_failure
        for ref, outcome in zip(ready, outcomes(ready) if ready else [], strict=True):
            if outcome is UNSETTLED:
                continue
            settled.add(ref)
            if outcome is not None:
                failed += 1
                first_failure = first_failure or failure_reason(outcome)
        self._cost_per_ref = (time.thread_time() - started) / max(1, len(looked))
        self._pending = self._pending[len(looked):] + [ref for ref in looked if ref not in settled]
        total = self._state.total
        self._state = RefsState(total - len(self._pending), total, failed, first_failure)
        return self._state

    def _looks_per_poll(self) -> int:
        """How many refs one look may take: those that fit in `CPU_SHARE` of the interval."""
        if self._cost_per_ref is None:
            return len(self._pending)
        return max(LEAST_LOOKED, int(CPU_SHARE * self.interval / max(self._cost_per_ref, 1e-9)))

    def _read(self, state: RefsState) -> Reading:
        if not state.total:
            return Reading(1.0, 0, 0)
        return Reading(state.done / state.total, state.done, state.total)

    def _failure(self, state: RefsState) -> str | None:
        if not state.failed:
            return None
        return f"{state.failed} of {state.total} refs, first {state.first_failure}"
