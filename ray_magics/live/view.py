"""What every live view has in common: the refresher polls it, it ends once, it can be waited for.

A view *ends* in one of two ways: done, or cut short with a one-line *reason* (the actor
died, the method raised, Ray shut down), which it keeps and shows for good. Outside a
widget front end (terminal IPython, a script) a view is its text, `repr(view)`.

`%config RayMagics.display` chooses: "widgets", "text", or "auto" (the default): widgets inside
a Jupyter kernel, text elsewhere. `RAY_MAGICS_WIDGETS=1` (or `0`) in the environment forces
widgets (or text) over the setting, for runs that cannot set it (benchmarks, nbconvert).
"""

import os
import sys
import threading

from IPython import get_ipython

from ..session.waits import wait_event
from ..settings import in_force
from .text_form import DisplayedText, TerminalLine, is_terminal

SWITCH = "RAY_MAGICS_WIDGETS"
OFF = ("0", "false", "no", "off")


def widget_frontend() -> bool:
    """Whether displays reach a widget front end, or only text (terminal, script, plain export)."""
    forced = os.environ.get(SWITCH, "").strip().lower()
    if forced:
        return forced not in OFF
    chosen = in_force().display
    if chosen != "auto":
        return chosen == "widgets"
    return getattr(get_ipython(), "kernel", None) is not None


class LiveView:
    """A view drawn in `self.widget` that the refresher polls every `interval` seconds.

    Subclasses say what one poll is (`request`) and draw its value (`_draw`, holding
    `_lock`); they end with `_end()` (still holding it) and draw the reason they were cut
    short in `_draw_outage`. A view of an actor (`actor_id`) also pauses while it restarts
    (`_draw_pause`), and says how long its readings have not come while a poll is overdue
    (`_draw_wait`).
    """

    interval: float | None
    actor_id: str | None = None  # the actor polled, if one: its restarts are told from its death
    prints_when_ended = False  # outside a widget front end: its line when it ends, not when displayed

    def __init__(self):
        self.finished = threading.Event()
        self._lock = threading.Lock()
        self._reason = None  # why the view was cut short, for good
        self._final_line_to = sys.stdout if self.prints_when_ended and not widget_frontend() else None
        self._text_form = None  # its text where widgets are not (`text_form`), once displayed

    def request(self):
        """Submit one poll and return its Ray ObjectRef, or poll here and return the value.

        A poll done here (in the refresher's thread) must be quick: it holds up the others.
        """
        raise NotImplementedError

    def show(self, value) -> bool:
        """Draw a polled value (unless the view has ended); True once the view has ended."""
        with self._lock:
            if self.finished.is_set():
                return True
            ended = self._draw(value)
            if not ended and self._text_form is not None:
                self._text_form.update(self, final=False)
            return ended

    def _draw(self, value) -> bool:
        """Draw a polled value, holding `_lock`; True if it ended the view."""
        raise NotImplementedError

    def pause(self, notice: str) -> None:
        """Show that polling waits for the actor (it restarts); the next value drawn clears it."""
        self._redraw(lambda: self._draw_pause(notice))

    def overdue(self) -> None:
        """Its poll is still unanswered when the next is due: show how long readings have not come."""
        self._redraw(self._draw_wait)

    def _redraw(self, draw) -> None:
        """`draw()` what changed between two values, holding `_lock` (unless the view has ended)."""
        with self._lock:
            if self.finished.is_set():
                return
            draw()
            if self._text_form is not None:
                self._text_form.update(self, final=False)

    def _draw_pause(self, notice: str) -> None:
        """Draw the notice polling waits with, holding `_lock`."""
        raise NotImplementedError

    def _draw_wait(self) -> None:
        """Draw how long readings have not come, holding `_lock` (a view polled in the refresher's
        thread has no poll overdue)."""

    def _draw_outage(self) -> None:
        """Draw why the view was cut short, holding `_lock`."""
        raise NotImplementedError

    def end(self, reason: str | None = None) -> None:
        """End the view: done, or cut short for `reason`. Only the first end counts."""
        with self._lock:
            self._end(reason)

    def _end(self, reason: str | None = None) -> None:
        """`end`, for a caller that holds `_lock`."""
        if self.finished.is_set():
            return
        if reason is not None:
            self._reason = reason
            self._draw_outage()
        if self._final_line_to is not None:
            print(repr(self), file=self._final_line_to)
        if self._text_form is not None:
            self._text_form.update(self, final=True)
        self.finished.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the view ends or `timeout`; Ctrl-C ends the wait, the view stays live."""
        try:
            return wait_event(self.finished, timeout)
        except KeyboardInterrupt:
            return False

    def display_text(self) -> str:
        """The text/plain displayed first beside the widget (then `shown_text`, as it changes)."""
        return repr(self)

    def shown_text(self) -> str:
        """What the view shows, as the text/plain beside its widget (its last drawn state)."""
        return repr(self)

    def _ipython_display_(self):
        """The widget; in a terminal its line, redrawn in place; elsewhere its text now, or its line when it ends."""
        with self._lock:
            if widget_frontend():
                text = self.shown_text() if self.finished.is_set() else self.display_text()
                self._text_form = DisplayedText(self.widget._repr_mimebundle_(), text)
            elif self.prints_when_ended and is_terminal() and not self.finished.is_set():
                self._final_line_to = None
                self._text_form = TerminalLine(sys.stdout, self)
            elif not self.prints_when_ended:
                print(repr(self))
