"""Actor handles and their methods, as Ray makes them in a driver or through Ray Client (`ray://`)."""

import functools

from .. import ray_internals
from ..session.ray_import import import_ray
from .facts import read_actor


def is_actor_handle(obj) -> bool:
    """Whether `obj` is a Ray actor handle (`ActorHandle`, or `ClientActorHandle`)."""
    import_ray()
    return isinstance(obj, ray_internals.handle_kinds())


def is_actor_method(obj) -> bool:
    """Whether `obj` is a method of an actor handle, such as `handle.state`."""
    import_ray()
    return isinstance(obj, ray_internals.method_kinds())


@functools.cache
def _driver_method_type() -> type:
    import_ray()
    driver, _client = ray_internals.method_kinds()
    return driver


def is_driver_method(method) -> bool:
    """Whether an actor method is a driver's (`ActorMethod`) rather than Ray Client's (cheap: called per poll)."""
    return isinstance(method, _driver_method_type())


def method_handle(method):
    """The handle of the actor whose method `method` is."""
    return ray_internals.method_handle(method, is_driver_method(method))


def method_name(method) -> str:
    """The name of an actor method (`state` of `handle.state`)."""
    return ray_internals.method_name(method)


def method_actor_id(method) -> str:
    """The hex id of the actor whose method `method` is."""
    return ray_internals.actor_id(method_handle(method))


def method_label(method) -> str:
    """`Class.method` of an actor method (through Ray Client the class is read from the GCS)."""
    if is_driver_method(method):
        class_name = ray_internals.class_name(method_handle(method))
    else:
        facts = read_actor(method_actor_id(method))
        class_name = facts.class_name if facts is not None else "actor"
    return f"{class_name}.{method_name(method)}"


def poll(method):
    """Call an actor method with no arguments: its ObjectRef (`method.remote()`, never starting Ray).

    A driver's method is called below `ActorMethod.remote`'s per-call option handling and
    Ray's auto-init (`ray_internals.call_quietly`); it is never retried (a failed poll is
    judged, not repeated) and leaves no task events: a poll every fraction of a second would
    fill the cluster's task list (the dashboard's, `ray list tasks`). A Ray Client method
    goes through its connection, which never starts Ray.
    """
    if not is_driver_method(method):
        return method.remote()
    return ray_internals.call_quietly(method)
