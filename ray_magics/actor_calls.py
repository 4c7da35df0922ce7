"""Call counts of the tracked actors the GCS lists, fetched in parallel without blocking.

Ray offers no handle by actor id, so each actor is reached through the handle it would
receive if one were passed to it: built from the actor's GCS record and registered as a
weak handle, which never keeps the actor alive. A count request that has not answered yet
is kept and collected by a later read, so a busy actor never gets a pile of requests.
"""

from .call_tracking import COUNTS_METHOD, CallCounts
from .ray_session import import_ray

ALIVE = "ALIVE"
PYTHON_CLASS = "python_function_descriptor"


def weak_handle(record):
    """A weak handle to the Python actor of a GCS `ActorTableData` record."""
    ray = import_ray()
    from ray.core.generated import common_pb2, core_worker_pb2

    spec = core_worker_pb2.ActorHandle(
        actor_id=record.actor_id,
        owner_id=record.owner_address.worker_id,
        owner_address=record.owner_address,
        creation_job_id=record.job_id,
        actor_language=common_pb2.PYTHON,
        actor_creation_task_function_descriptor=record.function_descriptor,
        name=record.name,
        ray_namespace=record.ray_namespace,
        is_detached=record.is_detached,
        max_pending_calls=-1,
    )
    core_worker = ray._private.worker.global_worker.core_worker
    return core_worker.deserialize_and_register_actor_handle(spec.SerializeToString(), None, True)


def counts_method(record):
    """The tracked actor's counting method, or None for an untracked or non-Python actor."""
    if record.function_descriptor.WhichOneof("function_descriptor") != PYTHON_CLASS:
        return None
    try:
        return getattr(weak_handle(record), COUNTS_METHOD, None)
    except Exception:  # noqa: BLE001 - an actor we cannot reach simply shows no counts
        return None


class CallCountReader:
    """Reads the call counts of the alive tracked actors among those it is given."""

    def __init__(self):
        self._methods = {}  # actor id -> its counting method, None if untracked
        self._pending = {}  # actor id -> ObjectRef of the request not answered yet

    def read(self, actors, timeout: float) -> dict:
        """Actor id -> `CallCounts` of each alive tracked actor; None for those still busy after `timeout`."""
        ray = import_ray()
        alive = {facts.actor_id: facts for facts in actors if facts.state == ALIVE}
        self._methods = {actor_id: self._method(facts) for actor_id, facts in alive.items()}
        self._pending = {
            actor_id: self._pending.get(actor_id) or method.remote()
            for actor_id, method in self._methods.items()
            if method is not None
        }
        refs = list(self._pending.values())
        ready = set(ray.wait(refs, num_returns=len(refs), timeout=timeout)[0]) if refs else set()
        counts = {}
        for actor_id, ref in list(self._pending.items()):
            if ref not in ready:
                counts[actor_id] = None
                continue
            del self._pending[actor_id]
            try:
                counts[actor_id] = CallCounts(*ray.get(ref))
            except Exception:  # noqa: BLE001, S112 - an actor that died meanwhile shows no counts
                continue
        return counts

    def _method(self, facts):
        if facts.actor_id in self._methods:
            return self._methods[facts.actor_id]
        return counts_method(facts.record)
