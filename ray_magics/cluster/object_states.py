"""Which of a list of ObjectRefs are done, and which of those failed, without fetching a value.

`ray.wait(fetch_local=False)` tells which refs are ready. Of those, a value in the object
store (Ray names the nodes holding it) is a result: an error is small and kept by its owner,
never put there. The others (values under 100 KiB, which their owner keeps, and refs whose
owner is gone) are read as bytes (`ray_internals.read_errors`): their metadata tells an error
from a value, and only errors are deserialized. A value in the object store that is lost
later (with its node) is not looked at again: it was done. Through Ray Client
that look runs in a task on the cluster (`remote_read.on_cluster`), the refs passed inside a
list so that they arrive unresolved.
"""

from ..ray_internals import read_errors, through_client
from ..session.background import wait
from ..session.ray_import import import_ray
from .remote_read import on_cluster

UNSETTLED = "unsettled"  # ready by `ray.wait`, but not readable yet (e.g. a lost object being rebuilt)
LOOKUP_TIMEOUT_MS = 1000


def ready_among(refs: list) -> list:
    """The refs among `refs` that are ready now (`ray.wait` with `fetch_local=False`, never starting Ray)."""
    return wait(refs, 0, fetch_local=False) if refs else []


def outcomes(ready: list) -> list:
    """For each ready ref: None if it holds a value, its exception if it failed, or `UNSETTLED`."""
    if through_client():
        return on_cluster(_outcomes_here, [ready])[0]
    return _outcomes_here([ready])[0]


def _outcomes_here(boxed: list) -> list:
    """`outcomes` where Ray's core worker is; the refs come inside a list, and so does the answer."""
    (ready,) = boxed
    try:
        locations = import_ray().experimental.get_object_locations(ready, timeout_ms=LOOKUP_TIMEOUT_MS)
    except Exception:  # noqa: BLE001 - without locations, each ref is read below
        locations = {}
    found = [None] * len(ready)  # a value in the object store is left where it is
    read = [index for index, ref in enumerate(ready) if not locations.get(ref, {}).get("node_ids")]
    try:
        errors = read_errors([ready[index] for index in read])
    except Exception:  # noqa: BLE001 - one not here yet (a lost object being rebuilt): each on its own
        errors = [_error_or_unsettled(ready[index]) for index in read]
    for index, error in zip(read, errors, strict=True):
        found[index] = error
    return [found]


def _error_or_unsettled(ref):
    """The ref's error (None for a value), or `UNSETTLED` if it is not here yet."""
    try:
        return read_errors([ref])[0]
    except import_ray().exceptions.GetTimeoutError:
        return UNSETTLED
    except Exception as error:  # noqa: BLE001 - Ray raises what it could not read (a lost object): its failure
        return error
