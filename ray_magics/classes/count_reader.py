"""Reading tracked actors' call counts: one handle's (`calls`), or those of every actor the
GCS lists, fetched in parallel without blocking (`CallCountReader`).

Ray offers no handle by actor id, so each actor is reached through the handle it would
receive if one were passed to it (`ActorFacts.handle_spec`), registered as a weak handle,
which never keeps the actor alive. A count request that has not answered yet is kept and
collected by a later read, so a busy actor never gets a pile of requests.

Through Ray Client this process has no core worker to register handles with: each read
then runs in a task on the cluster with a reader of its own (`cluster.remote_read`), and
sends the counts back as plain data.
"""

from ..cluster.facts import ALIVE
from ..cluster.handles import is_actor_handle
from ..cluster.remote_read import on_cluster
from ..errors import InputError, InputTypeError
from ..ray_internals import through_client, weak_actor_handle
from ..session.ray_import import import_ray
from ..session.waits import ready_within
from .counting import COUNTS_METHOD, CallCounts


def tracked_method(spec: bytes, name: str = COUNTS_METHOD):
    """The method `name` (the counting one by default) of the tracked actor whose serialized handle
    is `spec`, or None for an untracked or non-Python actor, or one that cannot be reached."""
    if not spec:
        return None
    try:
        return getattr(weak_actor_handle(spec), name, None)
    except Exception:  # noqa: BLE001 - an actor we cannot reach simply shows no counts
        return None


def calls(handle, timeout=None) -> CallCounts:
    """Calls per public method served so far by a tracked actor (`.failures` per method)."""
    ray = import_ray()
    if not is_actor_handle(handle):
        raise InputTypeError(f"calls() takes an actor handle, not {type(handle).__name__}")
    try:
        method = getattr(handle, COUNTS_METHOD)
    except AttributeError:
        raise InputError(
            "this actor counts no calls: make its class with %%actor or @ray_magics.actor, without --no-track"
        ) from None
    return CallCounts(*ray.get(method.remote(), timeout=timeout))


def read_in_task(actors, timeout: float) -> dict:
    """`CallCountReader().read` where Ray's core worker is: what a task on the cluster runs."""
    return CallCountReader().read(actors, timeout)


class CallCountReader:
    """Reads the call counts of the alive tracked actors among those it is given."""

    def __init__(self):
        self._methods = {}  # actor id -> its counting method, None if untracked
        self._pending = {}  # actor id -> ObjectRef of the request not answered yet

    def read(self, actors, timeout: float) -> dict:
        """Actor id -> `CallCounts` of each alive tracked actor; None for those still busy after `timeout`."""
        alive = [facts for facts in actors if facts.state == ALIVE and facts.handle_spec]
        if through_client():
            return on_cluster(read_in_task, alive, timeout)
        ray = import_ray()
        self._methods = {facts.actor_id: self._method(facts) for facts in alive}
        self._pending = {
            actor_id: self._pending.get(actor_id) or method.remote()
            for actor_id, method in self._methods.items()
            if method is not None
        }
        ready = ready_within(ray, list(self._pending.values()), timeout)
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
        return tracked_method(facts.handle_spec)
