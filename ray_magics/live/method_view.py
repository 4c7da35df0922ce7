"""What the live views of one actor method (bars and tables) have in common.

Each polls one actor method, pauses while the actor restarts (with a *notice*, cleared by
the next value), and ends once. Outside a widget front end it prints its one-line `repr`
when it ends, instead of a widget.
"""

from ..cluster.handles import method_actor_id, poll
from .view import LiveView


class MethodView(LiveView):
    """A live view of `method` (a bound actor method).

    A subclass clears `_notice` when it draws a value, says in `_live_status` how it goes,
    and draws `_reason` or `_notice` in `_draw_outage`.
    """

    prints_when_ended = True

    def __init__(self, method):
        super().__init__()
        self._method = method
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
        return poll(self._method)

    def pause(self, notice: str) -> None:
        with self._lock:
            if not self.finished.is_set():
                self._notice = notice
                self._draw_outage()

    def _live_status(self) -> str:
        raise NotImplementedError
