"""Faults underneath the magics: actors that restart, Ctrl-C in a real kernel, Ray out of reach."""

import os
import signal
import time

import pytest
import ray
from IPython.utils.capture import capture_output

import ray_magics
from ray_magics.refresher import REFRESHER

POLL = 0.1
RESTART_SECONDS = 1.0
RESTARTABLE = """
import os, time
class Phoenix:
    '''Counts up at each poll; its restarts (a marker file says which start is one) are slow.'''
    def __init__(self, marker, restart_seconds):
        if os.path.exists(marker):
            time.sleep(restart_seconds)
        open(marker, "w").close()
        self.done = 0
    def pid(self):
        return os.getpid()
    def get_progress(self):
        self.done += 1
        return (self.done, 10_000)
    def state(self):
        return {"phase": "RUNNING", "done": self.done}
"""


@pytest.fixture(autouse=True)
def no_live_views():
    yield
    REFRESHER.stop_all("test over")


def wait_for(condition, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} not met within {timeout} s"
        time.sleep(0.02)


def phoenix_row(view):
    view_rows = [row for row in view.rows if row["class"] == "Phoenix"]
    return view_rows[0] if view_rows else None


def test_a_restarting_actor_pauses_its_views_which_resume_and_fail_only_when_it_is_dead(ip, tmp_path):
    with capture_output():
        ip.run_cell_magic("actor", "--max-restarts 1", RESTARTABLE)
    handle = ip.user_ns["Phoenix"].remote(str(tmp_path / "started"), RESTART_SECONDS)
    pid = ray.get(handle.pid.remote())
    bar = ray_magics.progress(handle, interval=POLL)
    state_table = ray_magics.table(handle.state, interval=POLL)
    listing = ray_magics.actors(class_name="Phoenix", watch=True, interval=POLL)
    wait_for(lambda: bar.bar.value > 0 and state_table.polls > 0, what="first polls")
    assert (phoenix_row(listing)["state"], phoenix_row(listing)["restarts"]) == ("ALIVE", "0")

    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: bar.bar.bar_style == "warning", what="the bar showing the restart")
    assert bar.info.value.endswith("actor restarting (restart 1)")
    assert repr(bar).endswith("actor restarting (restart 1)")
    wait_for(lambda: repr(state_table).endswith("actor restarting (restart 1)"), what="the table showing the restart")
    assert "actor restarting (restart 1)" in state_table.widget.value
    assert (phoenix_row(listing)["state"], phoenix_row(listing)["restarts"]) == ("RESTARTING", "1")
    assert not bar.finished.is_set() and not state_table.finished.is_set()

    wait_for(lambda: bar.bar.bar_style == "info", what="the bar resuming")
    resumed_at = bar.bar.value
    wait_for(lambda: bar.bar.value > resumed_at, what="the bar moving again")
    wait_for(lambda: repr(state_table) == "Phoenix.state: 2 rows, running", what="the table resuming")
    wait_for(lambda: phoenix_row(listing)["state"] == "ALIVE", what="the listing showing it alive")
    assert phoenix_row(listing)["restarts"] == "1"
    assert {bar, state_table, listing} <= set(REFRESHER.views)

    ray.kill(handle, no_restart=False)  # no restart left: dead for good
    assert bar.finished.wait(5) and state_table.finished.wait(5)
    assert bar.bar.get_state()["bar_style"] == "danger"
    assert "failed: The actor is dead because" in repr(bar)
    assert "failed: The actor is dead because" in repr(state_table)
    wait_for(lambda: phoenix_row(listing) is None, what="the dead actor leaving the listing")
    assert set(REFRESHER.views) == {listing}
