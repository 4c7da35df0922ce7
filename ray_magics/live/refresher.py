"""One background thread that refreshes every live widget.

The thread starts with the first live view and exits when none remain. Each view is
polled at its own interval through Ray futures (`ray.wait` with a timeout), so a slow or
dead actor never holds up the others or the kernel; a view whose poll is a quick read
(such as the GCS's actor table) may poll in the thread itself. The thread only hands
results to the views and never prints in a widget front end (outside one, a view prints
its one final line when it finishes: the text fallback).

Its Ray calls go through `session.background`: they never start Ray, and a `ray.shutdown()`
in the user's code waits for them, then ends every view with "Ray shut down". A poll of
an actor that fails or hangs is judged by `health`: an actor restarting pauses its view
(polling goes on), an actor dead for good ends it, and a view whose poll hangs says how long
its readings have not come.
"""

import threading
import time

from ..session.background import connected_ray, get_ready, wait
from .health import error_reason, notice_after_failure, notice_while_stalled
from .view import LiveView

RAY_GONE = "Ray shut down"
THREAD_NAME = "ray_magics-refresher"
WAIT_SLICE = 0.05  # longest single `ray.wait`, so new views and `end_all` are served at once
JOIN_TIMEOUT = 2.0
DUE_WINDOW = 0.05  # polls due this soon (at most half their interval) go with those of their interval due now
STALL_CHECK_INTERVAL = 0.25  # least time between two looks at the actor of a poll still unanswered


def polls_due(due: dict, now: float) -> dict:
    """The views to poll at `now` (view → when its next poll is due, from `due`: view → when due).

    Views of one interval poll in step, one batch a turn: with those due now go those due
    within the window, and all of them next poll when the others of their interval do (a
    view just added joins them). Each view keeps its interval.
    """
    phase = {}  # interval → the earliest due time of a view of that interval due now
    for view, when in due.items():
        if when <= now:
            phase[view.interval] = min(when, phase.get(view.interval, when))
    step = {interval: next_poll(when, interval, now) for interval, when in phase.items()}
    polled = []
    for view, when in due.items():
        if view.interval not in phase:
            continue
        if when <= now + min(DUE_WINDOW, view.interval / 2):
            polled.append(view)
        else:  # one of its interval left for later: the batch falls into its step
            step[view.interval] = min(when, step[view.interval])
    return {view: step[view.interval] for view in polled}


def next_poll(due: float, interval: float, now: float) -> float:
    """When a poll due at `due` and made at `now` is next due: an interval later, or from now if it fell behind."""
    return due + interval if due + interval > now else now + interval


class Refresher:
    """Polls every live view from one daemon thread; `end_all` ends them all at once."""

    def __init__(self):
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._due = {}  # view -> when its next poll (or look at its stalled poll) is due
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
                self._thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)
                self._thread.start()
        self._wake.set()

    def end_all(self, reason: str) -> None:
        """End every view with `reason` and wait for the thread to exit."""
        with self._lock:
            views = list(self._due)
            self._due.clear()
            self._in_flight.clear()
            thread = self._thread
        for view in views:
            view.end(reason)
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(JOIN_TIMEOUT)

    def _run(self) -> None:
        while self._keep_running():
            self._wake.clear()
            with connected_ray() as ray:
                if ray is None:
                    self.end_all(RAY_GONE)
                    continue
                try:
                    self._submit_due(ray)
                    waited = self._collect()
                except Exception as error:  # noqa: BLE001 - the thread must outlive any failure
                    self.end_all(error_reason(error))
                    continue
            if not waited:
                self._wake.wait(self._idle_time())

    def _keep_running(self) -> bool:
        with self._lock:
            if not self._due:
                self._thread = None
            return self._thread is not None

    def _idle_time(self) -> float | None:
        """Seconds until the next view is due (None: no view, wait to be woken)."""
        with self._lock:
            next_due = min(self._due.values(), default=None)
        return None if next_due is None else max(0.0, next_due - time.monotonic())

    def _submit_due(self, ray) -> None:
        now = time.monotonic()
        with self._lock:
            due = polls_due(self._due, now)
            stalled = {view for view in due if view in self._in_flight}
        polled = []
        for view in due:
            if view in stalled:
                self._look_at_stalled(view, now)
                continue
            try:
                polled.append((view, view.request()))
            except Exception as error:  # noqa: BLE001 - Ray raises many kinds; all become one line
                self._end(view, error_reason(error))
        shown_here = []
        with self._lock:  # one look for the whole batch
            for view, value in polled:
                if view not in self._due:
                    continue  # ended meanwhile
                self._due[view] = due[view]
                if isinstance(value, ray.ObjectRef):
                    self._in_flight[view] = value
                else:
                    shown_here.append((view, value))
        for view, value in shown_here:
            self._show(view, value)

    def _look_at_stalled(self, view: LiveView, now: float) -> None:
        """A poll unanswered when the next is due: show that its actor is restarting, or how long
        readings have not come."""
        with self._lock:
            if view not in self._due:
                return
            self._due[view] = now + max(view.interval, STALL_CHECK_INTERVAL)
        try:
            notice = notice_while_stalled(view.actor_id)
        except Exception as error:  # noqa: BLE001 - a failed look ends that view only
            self._end(view, error_reason(error))
            return
        if notice is not None:
            view.pause(notice)
        else:
            view.overdue()

    def _collect(self) -> bool:
        """Wait a slice for the polls in flight and hand results to their views; False if none."""
        with self._lock:
            views = {ref: view for view, ref in self._in_flight.items()}
            next_due = min(self._due.values(), default=time.monotonic())
        if not views:
            return False
        slice_ = min(WAIT_SLICE, max(0.0, next_due - time.monotonic()))
        ready = wait(list(views), slice_)  # a batch per wait, and one get for the batch
        outcomes = get_ready(ready)
        answered = []
        with self._lock:  # the results of the views still polling, and only them
            for ref, (value, error) in zip(ready, outcomes, strict=True):
                view = views[ref]
                if self._in_flight.get(view) == ref:  # equal, not the same: Ray Client's wait makes new refs
                    del self._in_flight[view]
                    answered.append((view, value, error))
        for view, value, error in answered:
            self._deliver(view, value, error)
        return True

    def _deliver(self, view: LiveView, value, error: BaseException | None) -> None:
        if error is not None:  # every Ray failure is judged, then shown
            notice = notice_after_failure(error, view.actor_id)
            if notice is None:
                self._end(view, error_reason(error))
            else:
                view.pause(notice)
            return
        self._show(view, value)

    def _show(self, view: LiveView, value) -> None:
        try:
            finished = view.show(value)
        except Exception as error:  # noqa: BLE001 - a drawing failure ends that view only
            self._end(view, error_reason(error))
            return
        if finished:
            self._unschedule(view)

    def _end(self, view: LiveView, reason: str) -> None:
        view.end(reason)
        self._unschedule(view)

    def _unschedule(self, view: LiveView) -> None:
        """Poll `view` no more (it has ended)."""
        with self._lock:
            self._due.pop(view, None)
            self._in_flight.pop(view, None)


REFRESHER = Refresher()
