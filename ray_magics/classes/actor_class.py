"""Plain Python classes made into Ray actor classes, tracked or not.

`actor` is `ray.remote` for classes, with call tracking on by default; `original` gives
back the plain class for local unit tests.
"""

import functools

from ..errors import InputError, InputTypeError
from ..ray_internals import announce_creations
from ..session.ray_import import import_ray
from .counting import CONTROL_GROUP, CONTROL_GROUP_THREADS, tracked_class
from .submissions import creating
from .tagged_output import tags_wanted

ORIGINAL_CLASS = "__ray_magics_original__"
_TRACK_UNSAID = object()  # `track` not given: tracked, as `track=True`


def actor(cls=None, /, *, track=_TRACK_UNSAID, **options):
    """Make `cls` a Ray actor class, exactly as `@ray.remote(**options)` would.

    With `track` (the default) each actor counts the calls to its public methods; read
    them with `ray_magics.calls(handle)`. Usable as `@actor`, `@actor(num_cpus=1)`,
    `@actor(track=False)` or `actor(cls, num_cpus=1)`; `@actor()` is refused as Ray refuses
    `@ray.remote()`.
    """
    if cls is None:
        if track is _TRACK_UNSAID and not options:
            import_ray().remote()  # raises Ray's own error for empty parentheses
        return functools.partial(actor, track=track, **options)
    track = True if track is _TRACK_UNSAID else track
    if not isinstance(cls, type):
        raise InputTypeError(f"actor() takes a class, not {type(cls).__name__}")
    ray = import_ray()
    if track:
        options = with_control_group(options)
    target = tracked_class(cls, tags_output=tags_wanted()) if track else cls
    remote_class = ray.remote(**options)(target) if options else ray.remote(target)
    if track:
        announce_creations(remote_class, creating)
    setattr(remote_class, ORIGINAL_CLASS, cls)
    return remote_class


def with_control_group(options: dict) -> dict:
    """`options` with the tracked actor's own concurrency group added to the user's groups."""
    groups = options.get("concurrency_groups") or {}
    if not isinstance(groups, dict):
        return options  # Ray judges it, as `@ray.remote` would
    if CONTROL_GROUP in groups:
        raise InputError(f"the concurrency group {CONTROL_GROUP!r} is ray_magics's own; name yours otherwise")
    return {**options, "concurrency_groups": {**groups, CONTROL_GROUP: CONTROL_GROUP_THREADS}}


def original(actor_class):
    """The plain Python class an `%%actor` cell or `actor()` turned into `actor_class`."""
    try:
        return getattr(actor_class, ORIGINAL_CLASS)
    except AttributeError:
        raise InputTypeError(f"{actor_class!r} was not made by %%actor or ray_magics.actor()") from None
