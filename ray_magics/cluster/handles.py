"""Actor handles and their methods, as Ray makes them in a driver or through Ray Client (`ray://`)."""

import functools

from ..session.ray_import import import_ray
from .facts import read_actor


def _kinds(driver: str, client: str) -> tuple[type, ...]:
    ray = import_ray()
    from ray.util.client import common

    return getattr(ray.actor, driver), getattr(common, client)


def is_actor_handle(obj) -> bool:
    """Whether `obj` is a Ray actor handle (`ActorHandle`, or `ClientActorHandle`)."""
    return isinstance(obj, _kinds("ActorHandle", "ClientActorHandle"))


def is_actor_method(obj) -> bool:
    """Whether `obj` is a method of an actor handle, such as `handle.state`."""
    return isinstance(obj, _kinds("ActorMethod", "ClientRemoteMethod"))


@functools.cache
def _driver_method_type() -> type:
    return import_ray().actor.ActorMethod


def is_driver_method(method) -> bool:
    """Whether an actor method is a driver's (`ActorMethod`) rather than Ray Client's (cheap: called per poll)."""
    return isinstance(method, _driver_method_type())


def method_actor_id(method) -> str:
    """The hex id of the actor whose method `method` is."""
    handle = method._actor if is_driver_method(method) else method._actor_handle
    return handle._actor_id.hex()


def method_label(method) -> str:
    """`Class.method` of an actor method (through Ray Client the class is read from the GCS)."""
    if is_driver_method(method):
        class_name = method._actor._ray_actor_creation_function_descriptor.class_name
    else:
        facts = read_actor(method_actor_id(method))
        class_name = facts.class_name if facts is not None else "actor"
    return f"{class_name}.{method._method_name}"


def poll(method):
    """Call an actor method with no arguments: its ObjectRef (`method.remote()`, never starting Ray).

    A driver's method is called through its actor handle's own call (`ActorHandle.
    _actor_method_call`), below `ActorMethod.remote`'s per-call option handling and Ray's
    auto-init; it is never retried (a failed poll is judged, not repeated) and leaves no
    task events: a poll every fraction of a second would fill the cluster's task list (the
    dashboard's, `ray list tasks`). A Ray Client method goes through its connection, which
    never starts Ray.
    """
    if not is_driver_method(method):
        return method.remote()
    return method._actor._actor_method_call(
        method._method_name, num_returns=method._num_returns, max_task_retries=0, retry_exceptions=False,
        enable_task_events=False,
    )
