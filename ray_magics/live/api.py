"""The Python API of the live widgets: check the input, build the view, start refreshing it.

Every check runs before anything starts, so bad input leaves nothing behind. Each view
module imports ipywidgets, so it is imported only when its first view is made. An interval
left out is the refresh interval of the settings in force (`settings.in_force`); the magics
hand theirs down.
"""

from collections.abc import Iterable, Mapping

from ..cells.origins import recording
from ..cluster.handles import is_actor_handle, is_actor_method, method_label
from ..errors import InputError, InputTypeError
from ..session import lifecycle
from ..session.ray_import import import_ray
from ..settings import in_force, positive_seconds
from .refresher import REFRESHER


def interval_or_default(interval) -> float:
    """The seconds between polls: `interval`, or the settings' `refresh_interval` if None."""
    return positive_seconds(in_force().refresh_interval if interval is None else interval, "interval")


def keep_live(view, wait: bool, timeout, show):
    """Refresh `view` in the background, `show` it, and with `wait` block until it ends (or `timeout`)."""
    if timeout is not None:
        positive_seconds(timeout, "timeout")
    REFRESHER.add(view)
    if show is not None:
        show(view)
    if wait:
        view.wait(timeout)
    return view


def actor_method(handle, method: str):
    """`handle.<method>`, checked to be a method of a live actor handle."""
    lifecycle.check_running()
    if not is_actor_handle(handle):
        raise InputTypeError(f"expected a Ray actor handle, got {type(handle).__name__}")
    bound = getattr(handle, method, None)
    if not is_actor_method(bound):
        raise InputError(f"the actor has no method {method!r}")
    return bound


def progress(handle, method="get_progress", interval=None, description=None, unit=None, wait=False, timeout=None,
             show=None):
    """A live progress bar bound to `handle.<method>()`, or over ObjectRefs, refreshed in the background.

    The method returns a fraction in [0, 1], a `(done, total)` pair, or a mapping with
    `done`, `total` and optional `parts` (name → fraction or pair). In place of a handle,
    `handle` may be ObjectRefs (of tasks or actor calls): a list, a dict (its values), a
    generator or one ref; the bar counts those ready, never fetching a value, and turns red
    with the first failure (an empty list is a bar finished at once). `show` (such as
    IPython's `display`) is called with the bar before any wait. With `wait`, block until
    it ends (at most `timeout` seconds; Ctrl-C ends the wait). Display the view to see it;
    `repr(view)` is its one-line text.
    """
    lifecycle.check_running()
    if not is_actor_handle(handle):
        refs = object_refs(handle, expected="a Ray actor handle or ObjectRefs")
        if method != "get_progress":
            raise InputError("method applies to an actor handle, not to ObjectRefs")
        return refs_progress(refs, interval, description, unit, wait, timeout, show)
    bound = actor_method(handle, method)
    interval = interval_or_default(interval)
    from .progress_view import ProgressView

    return keep_live(ProgressView(bound, interval, description, unit), wait, timeout, show)


def refs_progress(refs, interval=None, description=None, unit=None, wait=False, timeout=None, show=None):
    """A live progress bar over ObjectRefs (`refs`: a list, a dict's values, a generator or one ref):
    `progress` for refs alone, refusing anything else."""
    lifecycle.check_running()
    refs = object_refs(refs)
    interval = interval_or_default(interval)
    from .refs_progress_view import RefsProgressView

    return keep_live(RefsProgressView(refs, interval, description, unit), wait, timeout, show)


def are_object_refs(value) -> bool:
    """Whether `value` is one ObjectRef, or a list, tuple or dict of them (looked at, never consumed)."""
    ray = import_ray()
    items = value.values() if isinstance(value, Mapping) else value if isinstance(value, (list, tuple)) else [value]
    return all(isinstance(item, ray.ObjectRef) for item in items)


def object_refs(value, expected: str = "ObjectRefs") -> list:
    """`value` as a list of ObjectRefs: a list or tuple, a dict's values, a generator, or one ref;
    `InputTypeError` for anything else (saying what was `expected`), or any item that is not a ref."""
    ray = import_ray()
    if isinstance(value, ray.ObjectRef):
        return [value]
    if isinstance(value, ray.ObjectRefGenerator):
        raise InputTypeError("a streaming generator's refs come one at a time: make a bar of the refs once made")
    if isinstance(value, (str, bytes)) or not isinstance(value, (Iterable, Mapping)):
        raise InputTypeError(f"expected {expected}, got {type(value).__name__}")
    refs = list(value.values() if isinstance(value, Mapping) else value)
    for index, item in enumerate(refs):
        if not isinstance(item, ray.ObjectRef):
            raise InputTypeError(f"expected ObjectRefs, but item {index} is of type {type(item).__name__}")
    return refs


def table(bound_method, interval=None, until=None, wait=False, timeout=None, label=None, show=None):
    """A live table of what `bound_method()` (e.g. `handle.state`) returns, refreshed in the background.

    A list shows a row per item, a dict a row per key, a list of dicts a column per key;
    state words (RUNNING, DONE, DEAD…) are coloured. With `until`, refreshing stops once
    every value (in a list of dicts: of its `state` or `status` column, if any) equals
    `until`, compared as strings. `show` and `wait` as for `progress`. `label` names the
    table (default `Class.method`).
    """
    lifecycle.check_running()
    if not is_actor_method(bound_method):
        raise InputTypeError(f"expected an actor method such as handle.state, got {type(bound_method).__name__}")
    interval = interval_or_default(interval)
    from .table_view import TableView

    until = None if until is None else str(until)
    view = TableView(bound_method, label or method_label(bound_method), interval, until)
    return keep_live(view, wait, timeout, show)


def check_listing(class_name, watch, interval) -> None:
    """The arguments of `actors`, checked before anything starts (`%actors` checks its line so)."""
    if class_name is not None and not isinstance(class_name, str):
        raise InputTypeError(f"class_name must be a str, got {type(class_name).__name__}")
    if interval is not None and not watch:
        raise InputError("interval needs watch")


def actors(all=False, class_name=None, watch=False, interval=None, stale=False):
    """The cluster's actors as a table: id, class, name, cell, state, pid, node, restarts, uptime, calls.

    Lists the actors that are not dead (all of them with `all`), of every job, optionally
    only those of class `class_name`; tracked actors show their calls per method, and the
    cell run that created them (`In [3]`, marked stale once that cell or the `%%actor` cell of
    their class has run again). With `stale`, only the stale ones. With `watch` the table
    stays live, refreshed every `interval` seconds. Display the view to see it; `repr(view)`
    is the table as text.
    """
    check_listing(class_name, watch, interval)
    lifecycle.check_running()
    interval = interval_or_default(interval) if watch else None
    from .actors_view import ActorsView

    view = ActorsView(bool(all), class_name, interval, recording(), bool(stale))
    return keep_live(view, wait=False, timeout=None, show=None) if watch else view
