"""What the live views of one actor method (bars and tables) have in common: how they poll it.

Each polls one actor method through the widgets' own door (`widget_poll`) and is paused,
not ended, while that actor restarts. Outside a widget front end it prints its one-line
`repr` when it ends, instead of a widget.
"""

import functools

from ..classes.counting import poll_method
from ..cluster.handles import method_actor_id, method_handle, method_name, poll
from .view import LiveView


class MethodView(LiveView):
    """A live view of `method` (a bound actor method); the rest of the arguments go to the next base."""

    prints_when_ended = True

    def __init__(self, method, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._method = method
        self._poll = None  # submits one poll (`widget_poll`), found at the first

    @property
    def actor_id(self) -> str:
        return method_actor_id(self._method)

    def request(self):
        if self._poll is None:
            self._poll = widget_poll(self._method)
        return self._poll()


def widget_poll(method):
    """How a widget polls an actor method (`cluster.handles.poll`): a callable that submits one
    poll. On a tracked actor the method runs in the actor's own concurrency group, so it answers
    while the actor is busy, and counts as a poll, not a call (`classes.counting.poll_method`).
    Found once per view: a handle makes a new method object on each attribute lookup."""
    poller = getattr(method_handle(method), poll_method(method_name(method)), None)
    return functools.partial(poll, method if poller is None else poller)
