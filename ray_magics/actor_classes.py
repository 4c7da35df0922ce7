"""Plain Python classes made into Ray actor classes, tracked or not.

`actor` is `ray.remote` for classes with call tracking on by default; `original` gives back
the plain class for local unit tests; `calls` reads a tracked actor's counts.
"""

import functools

from .call_tracking import COUNTS_METHOD, CallCounts, is_tracked, tracked_class
from .handles import is_actor_handle
from .ray_session import import_ray

ORIGINAL_CLASS = "__ray_magics_original__"


def actor(cls=None, /, *, track=True, **options):
    """Make `cls` a Ray actor class, exactly as `@ray.remote(**options)` would.

    With `track` (the default) each actor counts the calls to its public methods; read
    them with `ray_magics.calls(handle)`. Usable as `@actor`, `@actor(num_cpus=1)` or
    `actor(cls, num_cpus=1)`.
    """
    if cls is None:
        return functools.partial(actor, track=track, **options)
    if not isinstance(cls, type):
        raise TypeError(f"actor() takes a class, not {type(cls).__name__}")
    ray = import_ray()
    target = tracked_class(cls) if track else cls
    remote_class = ray.remote(**options)(target) if options else ray.remote(target)
    setattr(remote_class, ORIGINAL_CLASS, cls)
    return remote_class


def is_actor_class(obj) -> bool:
    return hasattr(obj, ORIGINAL_CLASS)


def original(actor_class):
    """The plain Python class an `%%actor` cell or `actor()` turned into `actor_class`."""
    try:
        return getattr(actor_class, ORIGINAL_CLASS)
    except AttributeError:
        raise TypeError(
            f"{actor_class!r} was not made by %%actor or ray_magics.actor()"
        ) from None


def is_tracked_actor_class(actor_class) -> bool:
    return is_tracked(actor_class.__ray_metadata__.modified_class)


def calls(handle, timeout=None) -> CallCounts:
    """Calls per public method served so far by a tracked actor (`.failures` per method)."""
    ray = import_ray()
    if not is_actor_handle(handle):
        raise TypeError(f"calls() takes an actor handle, not {type(handle).__name__}")
    try:
        method = getattr(handle, COUNTS_METHOD)
    except AttributeError:
        raise ValueError("this actor is not tracked (it was made with --no-track)") from None
    return CallCounts(*ray.get(method.remote(), timeout=timeout))


def describe(name, options, track) -> str:
    """The one-line confirmation `%%actor` prints for a class."""
    parts = [f"{key}={value!r}" for key, value in options.items()]
    parts.append("tracked" if track else "untracked")
    return f"{name} → Ray actor ({', '.join(parts)})"
