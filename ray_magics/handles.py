"""Actor handles and actor methods, as Ray makes them in a driver or through Ray Client."""

from .ray_session import import_ray


def _kinds(direct: str, client: str) -> tuple[type, ...]:
    ray = import_ray()
    from ray.util.client import common

    return getattr(ray.actor, direct), getattr(common, client)


def is_actor_handle(obj) -> bool:
    """Whether `obj` is a Ray actor handle (`ActorHandle`, or `ClientActorHandle` through `ray://`)."""
    return isinstance(obj, _kinds("ActorHandle", "ClientActorHandle"))


def is_actor_method(obj) -> bool:
    """Whether `obj` is a method of an actor handle, such as `handle.state`."""
    return isinstance(obj, _kinds("ActorMethod", "ClientRemoteMethod"))


def method_label(bound) -> str:
    """`Class.method` of a bound actor method; just `method` through Ray Client, which hides the class."""
    actor = getattr(bound, "_actor", None)
    if actor is None:
        return bound._method_name
    return f"{actor._ray_actor_creation_function_descriptor.class_name}.{bound._method_name}"
