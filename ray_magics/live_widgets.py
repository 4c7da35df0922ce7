"""The Python API of the live widgets: check the input, build the view, start refreshing it.

Every check runs before anything starts, so bad input leaves nothing behind.
"""

import math

from . import ray_session
from .refresher import REFRESHER


def default_interval() -> float:
    """`RayMagics.refresh_interval` of the running shell, or its default."""
    from IPython import get_ipython

    from .magics import RayMagics

    shell = get_ipython()
    magics = shell and shell.magics_manager.registry.get(RayMagics.__name__)
    return magics.refresh_interval if magics else RayMagics.class_traits()["refresh_interval"].default_value


def positive_seconds(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{what} must be a number of seconds > 0, got {value!r}")
    return float(value)


def actor_method(handle, method: str):
    """`handle.<method>`, checked to be a method of a live actor handle."""
    if not ray_session.is_running():
        raise ValueError("Ray is not running")
    ray = ray_session.import_ray()
    if not isinstance(handle, ray.actor.ActorHandle):
        raise TypeError(f"expected a Ray actor handle, got {type(handle).__name__}")
    bound = getattr(handle, method, None)
    if not isinstance(bound, ray.actor.ActorMethod):
        raise ValueError(f"the actor has no method {method!r}")
    return bound


def progress(handle, method="get_progress", interval=None, description=None, unit=None, wait=False, timeout=None):
    """A live progress bar bound to `handle.<method>()`, refreshed in the background.

    The method returns a fraction in [0, 1], a `(done, total)` pair, or a mapping with
    `done`, `total` and optional `parts` (name → fraction or pair). With `wait`, block
    until it finishes (at most `timeout` seconds; Ctrl-C ends the wait). Display the view
    to see it; `repr(view)` is its one-line text.
    """
    bound = actor_method(handle, method)
    interval = positive_seconds(default_interval() if interval is None else interval, "interval")
    if timeout is not None:
        positive_seconds(timeout, "timeout")
    from .progress_view import ProgressView  # imports ipywidgets: only when a bar is made

    view = ProgressView(bound, interval, description, unit)
    REFRESHER.add(view)
    if wait:
        view.wait(timeout)
    return view
