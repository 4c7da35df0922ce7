"""What every live widget of an actor method that ends (done or failed) has in common.

It polls one actor method, pauses while the actor restarts, finishes once, can be waited
for (Ctrl-C ends the wait), and outside a widget front end (terminal IPython, a script)
prints its one-line `repr` when it finishes, instead of a widget.
"""

import sys
import threading

from IPython.display import display

from .background_ray import submit
from .frontend import widget_frontend
from .handles import method_actor_id
from .kernel_waits import wait_event
from .refresher import LiveView


class FinishingView(LiveView):
    """A live view of `method` (a bound actor method) drawn in `self.widget`, that finishes once.

    Subclasses draw while holding `_lock` and call `_finish()`, still holding it, to end;
    `_stop(reason)` shows a failure for good, and ends. A subclass clears `_notice` when it
    draws a value, says in `_live_status` how it goes, and draws `_reason` or `_notice` in
    `_draw_outage`.
    """

    def __init__(self, method):
        self.finished = threading.Event()
        self._method = method
        self._lock = threading.Lock()
        self._print_when_finished = None if widget_frontend() else sys.stdout
        self._reason = None  # why polling ended early, for good
        self._notice = None  # why polling waits (the actor restarts), until the next value

    @property
    def status(self) -> str:
        if self._reason is not None:
            return f"failed: {self._reason}"
        return self._notice if self._notice is not None else self._live_status()

    @property
    def actor_id(self) -> str:
        return method_actor_id(self._method)

    def request(self):
        return submit(self._method)

    def display_text(self) -> str:
        """The text/plain shown beside the widget (for static exports and nbval)."""
        return repr(self)

    def fail(self, reason: str) -> None:
        with self._lock:
            if not self.finished.is_set():
                self._stop(reason)

    def pause(self, notice: str) -> None:
        with self._lock:
            if not self.finished.is_set():
                self._notice = notice
                self._draw_outage()

    def _stop(self, reason: str) -> None:
        self._reason = reason
        self._draw_outage()
        self._finish()

    def _live_status(self) -> str:
        raise NotImplementedError

    def _draw_outage(self) -> None:
        raise NotImplementedError

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the view finishes or `timeout`; Ctrl-C ends the wait, the view stays live."""
        try:
            return wait_event(self.finished, timeout)
        except KeyboardInterrupt:
            return False

    def _ipython_display_(self):
        """The widget; in a text front end nothing, as the final line comes when it finishes."""
        if widget_frontend():
            display({**self.widget._repr_mimebundle_(), "text/plain": self.display_text()}, raw=True)

    def _finish(self) -> None:
        """End the view; a text front end that displayed it gets its final line."""
        if self._print_when_finished is not None:
            print(repr(self), file=self._print_when_finished)
        self.finished.set()
