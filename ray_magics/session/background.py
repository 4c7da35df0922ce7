"""Ray calls for the refresher's background thread, safe against the user's `ray.shutdown()`.

A background thread meets two hazards when the user calls `ray.shutdown()` directly:

- Ray ends the whole process if its core worker is used during or after the shutdown.
  `connected_ray()` holds Ray's own connect/shutdown lock, so a shutdown waits until the
  thread's Ray calls are over, and a thread that finds Ray gone makes none.
- Ray wraps `ray.get`, `ray.wait` and `ActorMethod._remote` so that a call made while Ray
  is not connected first starts one (`ray.init()`). The thread must never start Ray, also
  where the lock does not reach (a Ray Client connection), so it calls `ray.get` and
  `ray.wait` as Ray defined them and submits polls below `_remote` (`cluster.handles.poll`);
  these raise instead.
  Ray's global auto-connect switch stays as the user set it.
"""

import contextlib
import functools
from collections.abc import Callable
from typing import NamedTuple

from ..ray_internals import auto_init_code, connect_or_shutdown_lock
from .ray_import import import_ray


def without_auto_init(function):
    """`function` as Ray defined it, without the auto-init wrapper Ray may have put around it."""
    return function.__wrapped__ if getattr(function, "__code__", None) is auto_init_code() else function


@contextlib.contextmanager
def connected_ray():
    """The `ray` module while this process stays connected to Ray, or None if it is not.

    The block holds Ray's connect/shutdown lock: keep it short (a `ray.shutdown()` in
    another thread waits for it).
    """
    ray = import_ray()
    with connect_or_shutdown_lock():
        yield ray if ray.is_initialized() else None


class _RayCalls(NamedTuple):
    """`ray.wait` and `ray.get` without the auto-init wrapper (looked up once)."""

    wait: Callable
    get: Callable


@functools.cache
def _ray_calls() -> _RayCalls:
    ray = import_ray()
    return _RayCalls(without_auto_init(ray.wait), without_auto_init(ray.get))


def wait(refs: list, timeout: float, fetch_local: bool = True) -> list:
    """The refs among `refs` that are ready within `timeout` seconds (`ray.wait`, never starting Ray)."""
    ready, _ = _ray_calls().wait(refs, num_returns=len(refs), timeout=timeout, fetch_local=fetch_local)
    return ready


def get_ready(refs: list) -> list[tuple]:
    """`(value, None)` or `(None, error)` for each ready ref (`ray.get`, never starting Ray).

    One `ray.get` for them all; only if one of them failed, one each, to tell which.
    """
    get = _ray_calls().get
    try:
        return [(value, None) for value in get(refs, timeout=0)]
    except Exception:  # noqa: BLE001 - any failure: each ref on its own below
        return [_outcome(get, ref) for ref in refs]


def _outcome(get, ref) -> tuple:
    try:
        return get(ref, timeout=0), None
    except Exception as error:  # noqa: BLE001 - handed to the view's judge
        return None, error

