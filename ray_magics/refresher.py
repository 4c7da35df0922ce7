"""One background thread that refreshes every live widget.

The thread starts with the first live view and exits when none remain. Each view is
polled at its own interval through Ray futures (`ray.wait` with a timeout), so a slow or
dead actor never holds up the others or the kernel; a view whose poll is a quick read
(such as the GCS's actor table) may poll in the thread itself. The thread only hands
results to the views and never prints in a widget front end (outside one, a view prints
its one final line when it finishes: the text fallback).
"""

import threading
import time

from .ray_session import import_ray, one_line

RAY_GONE = "Ray shut down"
WAIT_SLICE = 0.05  # longest single `ray.wait`, so new views and `stop_all` are served at once
JOIN_TIMEOUT = 2.0
DUE_WINDOW = 0.05  # polls due this soon go with those due now: views fall into step, one batch a turn
DEATH_CAUSE = "The actor is dead because"


class LiveView:
    """What the refresher polls. Subclasses draw; the refresher calls these from its thread."""

    interval: float

    def request(self):
        """Submit one poll and return its Ray ObjectRef, or poll here and return the value.

        A poll done here (in the refresher's thread) must be quick: it holds up the others.
        """
        raise NotImplementedError

    def show(self, value) -> bool:
        """Draw a polled value; True once there is nothing more to poll."""
        raise NotImplementedError

    def fail(self, reason: str) -> None:
        """Show, for good, the one-line reason polling ended early."""
        raise NotImplementedError


def ray_error_reason(error: BaseException) -> str:
    """One line for a failed poll: the actor's death cause, or the method's exception."""
    ray = import_ray()
    if isinstance(error, ray.exceptions.RayTaskError) and error.cause is not None:
        return f"{type(error.cause).__name__}: {one_line(error.cause)}"
    if isinstance(error, ray.exceptions.RayActorError):
        lines = str(error).strip().splitlines()
        return next((line for line in lines if line.startswith(DEATH_CAUSE)), one_line(error))
    return one_line(error)


class Refresher:
    """Polls every live view from one daemon thread; `stop_all` ends them all at once."""

    def __init__(self):
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._due = {}  # view -> when its next poll is due
        self._in_flight = {}  # view -> ObjectRef of its poll
        self._thread = None

    @property
    def views(self) -> list:
        with self._lock:
            return list(self._due)

    @property
    def thread(self) -> threading.Thread | None:
        return self._thread

    def add(self, view: LiveView) -> None:
        """Start polling `view` now (starting the thread if it is not running)."""
        with self._lock:
            self._due[view] = time.monotonic()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="ray_magics-refresher", daemon=True)
                self._thread.start()
        self._wake.set()

    def stop_all(self, reason: str) -> None:
        """Stop every view with `reason` and wait for the thread to exit."""
        with self._lock:
            views = list(self._due)
            self._due.clear()
            self._in_flight.clear()
            thread = self._thread
        for view in views:
            view.fail(reason)
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(JOIN_TIMEOUT)

    def _run(self) -> None:
        ray = import_ray()
        while self._keep_running():
            self._wake.clear()
            if not ray.is_initialized():
                self.stop_all(RAY_GONE)
                continue
            try:
                self._submit_due(ray)
                self._collect(ray)
            except Exception as error:  # noqa: BLE001 - the thread must outlive any failure
                self.stop_all(RAY_GONE if not ray.is_initialized() else one_line(error))

    def _keep_running(self) -> bool:
        with self._lock:
            if not self._due:
                self._thread = None
            return self._thread is not None

    def _submit_due(self, ray) -> None:
        now = time.monotonic()
        with self._lock:
            due = [
                view for view, when in self._due.items()
                if when <= now + DUE_WINDOW and view not in self._in_flight
            ]
        for view in due:
            try:
                polled = view.request()
            except Exception as error:  # noqa: BLE001 - Ray raises many kinds; all become one line
                self._end(view, one_line(error))
                continue
            with self._lock:
                if view not in self._due:
                    continue
                self._due[view] = now + view.interval
                if isinstance(polled, ray.ObjectRef):
                    self._in_flight[view] = polled
                    continue
            self._show(view, polled)

    def _collect(self, ray) -> None:
        """Wait for polls in flight (or the next due poll) and hand results to their views."""
        with self._lock:
            in_flight = dict(self._in_flight)
            waiting = [when for view, when in self._due.items() if view not in in_flight]
        timeout = max(0.0, min(waiting) - time.monotonic()) if waiting else None
        if not in_flight:
            self._wake.wait(timeout)
            return
        views = {ref: view for view, ref in in_flight.items()}
        refs = list(views)
        slice_ = WAIT_SLICE if timeout is None else min(timeout, WAIT_SLICE)
        ready, _ = ray.wait(refs, num_returns=len(refs), timeout=slice_)  # a batch per wait
        for ref in ready:
            self._deliver(ray, views[ref], ref)

    def _deliver(self, ray, view: LiveView, ref) -> None:
        with self._lock:
            if self._in_flight.get(view) is not ref:
                return  # stopped meanwhile
            del self._in_flight[view]
        try:
            value = ray.get(ref, timeout=0)
        except Exception as error:  # noqa: BLE001 - every Ray failure becomes the view's reason
            self._end(view, ray_error_reason(error))
            return
        self._show(view, value)

    def _show(self, view: LiveView, value) -> None:
        try:
            finished = view.show(value)
        except Exception as error:  # noqa: BLE001 - a drawing failure ends that view only
            self._end(view, one_line(error))
            return
        if finished:
            self._forget(view)

    def _end(self, view: LiveView, reason: str) -> None:
        view.fail(reason)
        self._forget(view)

    def _forget(self, view: LiveView) -> None:
        with self._lock:
            self._due.pop(view, None)
            self._in_flight.pop(view, None)


REFRESHER = Refresher()
