"""Ray's first import, in a thread of its own, so that Ctrl-C ends the wait for it at once.

Ray is imported on first need only, so that loading the extension stays instant.
"""

import importlib
import sys
import threading

from .waits import wait_event

THREAD_NAME = "ray_magics-import"

_first_import_lock = threading.Lock()
_first_import = None  # the thread of Ray's first import, if this module started it
_first_import_over = threading.Event()  # (an interrupted `join` can leave `is_alive()` wrong)


def _import_first() -> None:
    try:
        importlib.import_module("ray")
    finally:
        _first_import_over.set()


def import_ray():
    """Import Ray.

    The first import (seconds) runs in a thread, so Ctrl-C ends the wait at once without
    leaving Ray half-imported: the import goes on, and the next call waits for it.
    """
    global _first_import
    with _first_import_lock:
        if _first_import is None and "ray" not in sys.modules:
            _first_import = threading.Thread(target=_import_first, name=THREAD_NAME, daemon=True)
            _first_import.start()
    if _first_import is not None:
        wait_event(_first_import_over)
    import ray

    return ray


def import_under_way() -> bool:
    """Whether Ray's first import, started here, has not finished yet."""
    return _first_import is not None and not _first_import_over.is_set()


def ray_imported() -> bool:
    """Whether Ray is imported and usable, without importing it or waiting for its import."""
    return "ray" in sys.modules and not import_under_way()
