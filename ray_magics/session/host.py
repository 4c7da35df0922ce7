"""`ray.init` in a thread of its own, so that Ctrl-C or a timeout ends the wait for it at once.

`ray.init` blocks for seconds in Ray's C++ code, where Python cannot deliver Ctrl-C. Run in
a host thread, it leaves the cell's thread free to wait, and to stop waiting. The host
thread lives as long as the Ray it started: Ray ties the life of the processes it starts
(GCS, raylet…) to the thread that started them (Linux's parent-death signal). A start that
was given up is shut down as soon as `ray.init` returns, so no half-started Ray stays.
"""

import threading
import warnings

from ..ray_internals import START_TIP, local_session_name, prompt_interrupts
from .background import connected_ray
from .waits import wait_event

HOST_CHECK = 0.2  # how often the host looks whether the Ray it started is still the one running
THREAD_NAME = "ray_magics-ray-host"  # `ray.init` and the life of the Ray it started


class RayHost(threading.Thread):
    """Runs `ray.init(**kwargs)`, then stays until that Ray is shut down (or the start given up)."""

    def __init__(self, ray, kwargs: dict):
        super().__init__(name=THREAD_NAME, daemon=True)
        self.error: BaseException | None = None
        self._ray = ray
        self._kwargs = kwargs
        self._returned = threading.Event()
        self._given_up = threading.Event()
        self._over = threading.Event()  # (an interrupted `join` can leave `is_alive()` wrong)

    @property
    def embedded(self) -> bool:
        """Whether this host starts a local Ray (rather than connecting to a cluster at an address)."""
        return not self._kwargs.get("address")

    @property
    def given_up(self) -> bool:
        return self._given_up.is_set()

    @property
    def winding_down(self) -> bool:
        """Given up, and still shutting down (or still waiting to shut down) what it started."""
        return self.given_up and not self._over.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until `ray.init` returned (then `error` tells how); False after `timeout`.

        Ctrl-C raises `KeyboardInterrupt` here at once.
        """
        return wait_event(self._returned, timeout)

    def wait_until_over(self) -> None:
        """Wait until the host has shut down, or left, the Ray it started. Ctrl-C ends the wait."""
        wait_event(self._over)

    def give_up(self) -> None:
        """Nobody waits for this start any more: shut its Ray down once `ray.init` returns."""
        self._given_up.set()

    def run(self) -> None:
        try:
            self._host()
        finally:
            self._over.set()

    def _host(self) -> None:
        warnings.filterwarnings("ignore", message=START_TIP, category=FutureWarning)  # start-up chatter
        try:
            with prompt_interrupts():
                self._ray.init(**self._kwargs)
        except BaseException as error:  # noqa: BLE001 - handed to the thread that waits
            self.error = error
        session = local_session_name()  # names this start's local node (None for a Ray Client)
        self._returned.set()
        if self.error is None:
            while not self._given_up.wait(HOST_CHECK):
                if not self._still_hosting(session):
                    return  # shut down by someone else: nothing of it left to host
        self._ray.shutdown()  # a failed or given-up start: stop whatever it started

    def _still_hosting(self, session) -> bool:
        """Whether the Ray this host started still runs; a shutdown under way counts as running.

        Leaving while a `ray.shutdown()` still talks to the processes would kill them under
        it (they die with this thread), so the look waits for Ray's connect/shutdown lock.
        """
        with connected_ray() as ray:
            return ray is not None and local_session_name() == session
