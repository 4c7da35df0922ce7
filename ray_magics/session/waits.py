"""Waits on the kernel's thread that Ctrl-C always ends at once, and the one line it then shows.

A SIGINT sent to the process may land on any of its threads; CPython then raises
`KeyboardInterrupt` only when the main thread next runs Python code. A main thread blocked
in one long `Event.wait()` or `ray.wait()` would not see it, so it waits in short slices instead.
"""

import threading
import time

SLICE = 0.1  # longest single wait: the delay Ctrl-C may have


def wait_event(event: threading.Event, timeout: float | None = None) -> bool:
    """`event.wait(timeout)`, in slices, so that Ctrl-C raises `KeyboardInterrupt` within one."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        left = SLICE if deadline is None else min(SLICE, deadline - time.monotonic())
        if left <= 0:
            return event.is_set()
        if event.wait(left):
            return True


def ready_within(ray, refs: list, timeout: float) -> set:
    """The refs among `refs` ready within `timeout` (`ray.wait`), in slices, so that Ctrl-C is seen within one."""
    deadline = time.monotonic() + timeout
    while refs:
        left = max(0.0, deadline - time.monotonic())
        ready, pending = ray.wait(refs, num_returns=len(refs), timeout=min(left, SLICE))
        if not pending or left <= SLICE:
            return set(ready)
    return set()


def interrupted(message: str) -> KeyboardInterrupt:
    """A `KeyboardInterrupt` that IPython shows as its one line, without a traceback.

    Formatting a traceback takes IPython a second the first time (longer while Ray's import
    holds the interpreter); the frames of a magic's wait would say nothing the line does not.
    """
    error = KeyboardInterrupt(message)
    error._render_traceback_ = lambda: [f"KeyboardInterrupt: {message}"]  # IPython's hook for custom tracebacks
    return error
