"""Ending actors known by their GCS record, here or on the cluster (through Ray Client)."""

from ..ray_internals import weak_actor_handle
from ..session.ray_import import import_ray
from .remote_read import on_cluster


def end_actors(handle_specs: list[bytes]) -> None:
    """End the actors of these serialized handles (`facts.ActorFacts.handle_spec`) as `ray.kill`
    does: at once, without restarts."""
    if handle_specs:
        on_cluster(end_here, handle_specs)


def end_here(handle_specs: list[bytes]) -> None:
    """`end_actors` where Ray's core worker is."""
    ray = import_ray()
    for spec in handle_specs:
        ray.kill(weak_actor_handle(spec), no_restart=True)
