"""The Python API of the live widgets: check the input, build the view, start refreshing it.

Every check runs before anything starts, so bad input leaves nothing behind.
"""

import math

from . import ray_session
from .handles import is_actor_handle, is_actor_method, method_label
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


def running_ray():
    """The `ray` module, once Ray runs in this process."""
    if not ray_session.is_running():
        raise ValueError("Ray is not running")
    return ray_session.import_ray()


def refresh_timing(interval, timeout) -> float:
    """The interval between polls (the setting's, if None); both checked to be seconds > 0."""
    if timeout is not None:
        positive_seconds(timeout, "timeout")
    return positive_seconds(default_interval() if interval is None else interval, "interval")


def start(view, wait: bool, timeout: float | None):
    """Refresh `view` in the background; with `wait`, block until it finishes (or `timeout`)."""
    REFRESHER.add(view)
    if wait:
        view.wait(timeout)
    return view


def actor_method(handle, method: str):
    """`handle.<method>`, checked to be a method of a live actor handle."""
    running_ray()
    if not is_actor_handle(handle):
        raise TypeError(f"expected a Ray actor handle, got {type(handle).__name__}")
    bound = getattr(handle, method, None)
    if not is_actor_method(bound):
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
    interval = refresh_timing(interval, timeout)
    from .progress_view import ProgressView  # imports ipywidgets: only when a bar is made

    return start(ProgressView(bound, interval, description, unit), wait, timeout)


def table(bound_method, interval=None, until=None, wait=False, timeout=None, label=None):
    """A live table of what `bound_method()` (e.g. `handle.state`) returns, refreshed in the background.

    A list shows a row per item, a dict a row per key, a list of dicts a column per key;
    state words (RUNNING, DONE, DEAD…) are coloured. With `until`, refreshing stops once
    every value (in a list of dicts: of its `state` or `status` column, if any) equals
    `until`, compared as strings. With `wait`, block until then (at most `timeout`
    seconds; Ctrl-C ends the wait). `label` names the table (default `Class.method`).
    """
    running_ray()
    if not is_actor_method(bound_method):
        raise TypeError(f"expected an actor method such as handle.state, got {type(bound_method).__name__}")
    interval = refresh_timing(interval, timeout)
    from .table_view import TableView  # imports ipywidgets: only when a table is made

    until = None if until is None else str(until)
    return start(TableView(bound_method, label or method_label(bound_method), interval, until), wait, timeout)


def actors(all=False, class_name=None, watch=False, interval=None):
    """The cluster's actors as a table: id, class, name, state, pid, node, restarts, uptime, calls.

    Lists the actors that are not dead (all of them with `all`), of every job, optionally
    only those of class `class_name`; tracked actors show their calls per method. With
    `watch` the table stays live, refreshed every `interval` seconds. Display the view to
    see it; `repr(view)` is the table as text.
    """
    if not ray_session.is_running():
        raise ValueError("Ray is not running")
    if class_name is not None and not isinstance(class_name, str):
        raise TypeError(f"class_name must be a str, got {type(class_name).__name__}")
    if interval is not None and not watch:
        raise ValueError("interval needs watch")
    if watch:
        interval = positive_seconds(default_interval() if interval is None else interval, "interval")
    from .actors_view import ActorsView  # imports ipywidgets: only when a table is made

    view = ActorsView(bool(all), class_name, interval)
    if watch:
        REFRESHER.add(view)
    return view
