"""Actor handles, as Ray makes them in a driver or through Ray Client."""

from .ray_session import import_ray


def is_actor_handle(obj) -> bool:
    """Whether `obj` is a Ray actor handle (`ActorHandle`, or `ClientActorHandle` through `ray://`)."""
    ray = import_ray()
    from ray.util.client.common import ClientActorHandle

    return isinstance(obj, (ray.actor.ActorHandle, ClientActorHandle))
