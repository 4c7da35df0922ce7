"""Faults underneath the magics: actors that restart, Ctrl-C in a real kernel, Ray out of reach."""

import os
import signal
import socket
import sys
import time

import psutil
import pytest
import ray
from IPython.utils.capture import capture_output
from traitlets import TraitError

import ray_magics
from ray_magics.live.refresher import REFRESHER

from .conftest import free_port, usage_error, wait_for
from .processes import reports

pytestmark = [pytest.mark.usefixtures("no_live_views"), pytest.mark.latency]

POLL = 0.1
RESTART_SECONDS = 2.0  # long enough for every view to see the restart, even on a loaded machine
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
    wait_for(lambda: bar.bar.value > 0 and state_table.polls > 0, timeout=10, what="first polls")
    assert (phoenix_row(listing)["state"], phoenix_row(listing)["restarts"]) == ("ALIVE", "0")

    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: bar.bar.bar_style == "warning", timeout=10, what="the bar showing the restart")
    assert bar.info.value.endswith("actor restarting (restart 1)")
    assert repr(bar).endswith("actor restarting (restart 1)")
    wait_for(
        lambda: repr(state_table).endswith("actor restarting (restart 1)"),
        timeout=10, what="the table showing the restart",
    )
    assert "actor restarting (restart 1)" in state_table.widget.value
    wait_for(  # (the listing reads the GCS on its own turn of the refresher)
        lambda: (phoenix_row(listing)["state"], phoenix_row(listing)["restarts"]) == ("RESTARTING", "1"),
        timeout=RESTART_SECONDS, what="the listing showing the restart",
    )
    assert not bar.finished.is_set() and not state_table.finished.is_set()

    wait_for(lambda: bar.bar.bar_style == "info", timeout=10, what="the bar resuming")
    resumed_at = bar.bar.value
    wait_for(lambda: bar.bar.value > resumed_at, timeout=10, what="the bar moving again")
    wait_for(lambda: repr(state_table) == "Phoenix.state: 2 rows, running", timeout=10, what="the table resuming")
    wait_for(lambda: phoenix_row(listing)["state"] == "ALIVE", timeout=10, what="the listing showing it alive")
    assert phoenix_row(listing)["restarts"] == "1"
    assert {bar, state_table, listing} <= set(REFRESHER.views)

    ray.kill(handle, no_restart=False)  # no restart left: dead for good
    assert bar.finished.wait(5) and state_table.finished.wait(5)
    assert bar.bar.get_state()["bar_style"] == "danger"
    assert "failed: The actor is dead because" in repr(bar)
    assert "failed: The actor is dead because" in repr(state_table)
    wait_for(lambda: phoenix_row(listing) is None, timeout=10, what="the dead actor leaving the listing")
    assert set(REFRESHER.views) == {listing}


@pytest.fixture(scope="module")
def kernel():
    """A real ipykernel of its own (SIGINT for Ctrl-C), with the extension loaded and no Ray yet."""
    from .kernel_driver import kernel_with

    with kernel_with("%load_ext ray_magics\n%config RayMagics.num_cpus = 1\nimport time, psutil, ray") as started:
        yield started


TWO_CLASSES = "%%actor\nclass Job:\n    def get_progress(self):\n        return 0.5\nclass Other:\n    pass\n"
RAY_CHILDREN = (  # still running: Ray 2.52's shutdown leaves its ended autoscaler monitor unreaped (a zombie)
    "[p.name() for p in psutil.Process().children(recursive=True) if p.status() != psutil.STATUS_ZOMBIE]"
)


def test_ctrl_c_while_the_first_actor_cell_starts_ray_undoes_the_start(kernel):
    result, after_ctrl_c = kernel.interrupt_after(TWO_CLASSES, 2.0)
    assert after_ctrl_c < 1
    assert result.error == ("KeyboardInterrupt", "the start of a local Ray was interrupted; nothing of it is kept")
    assert kernel.value("[name in globals() for name in ('Job', 'Other')]") == [False, False]
    kernel.check("from ray_magics.session import lifecycle\nlifecycle.wait_for_given_up_start()")
    assert kernel.value("ray.is_initialized()") is False
    deadline = time.monotonic() + 10
    while kernel.value(RAY_CHILDREN) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert kernel.value(RAY_CHILDREN) == []
    assert kernel.check(TWO_CLASSES).stdout == "Job → Ray actor (tracked)\nOther → Ray actor (tracked)\n"
    assert kernel.value("ray.get(Job.remote().get_progress.remote())") == 0.5


def test_an_actor_cell_that_raises_costs_nothing_and_does_not_start_ray():
    from .kernel_driver import Kernel

    fresh = Kernel()
    try:
        fresh.check("%load_ext ray_magics\nimport psutil, sys")
        result = fresh.run("%%actor\nclass Broken:\n    pass\nraise ValueError('in the cell')")
        assert result.error == ("ValueError", "in the cell")
        assert fresh.value("hasattr(Broken, 'remote')") is False  # as any failing cell leaves it: plain
        assert fresh.value("'ray' in sys.modules and sys.modules['ray'].is_initialized()") is False
        assert fresh.value(RAY_CHILDREN) == []
    finally:
        fresh.close()


def test_ctrl_c_while_the_first_actor_cell_imports_ray_shows_one_line_at_once():
    """In a fresh kernel Ray's first import takes seconds; Ctrl-C ends the cell, not the import."""
    from .kernel_driver import Kernel

    fresh = Kernel()
    try:
        fresh.check("%load_ext ray_magics\n%config RayMagics.num_cpus = 1\nimport sys")
        result, after_ctrl_c = fresh.interrupt_after(TWO_CLASSES, 0.3)
        assert fresh.value("'ray' in sys.modules") is True  # the import went on
        assert after_ctrl_c < 1
        message = "the start of a local Ray was interrupted; nothing of it is kept"
        assert result.error == ("KeyboardInterrupt", message)
        assert result.traceback == [f"KeyboardInterrupt: {message}"]
        assert fresh.value("[name in globals() for name in ('Job', 'Other')]") == [False, False]
        assert fresh.check(TWO_CLASSES).stdout == "Job → Ray actor (tracked)\nOther → Ray actor (tracked)\n"
        fresh.check("%ray_shutdown")
    finally:
        fresh.close()


ENDLESS = """%%actor --no-track
class Endless:
    '''Never done: one more step at each poll.'''
    def __init__(self):
        self.done = 0
    def get_progress(self):
        self.done += 1
        return (self.done, 10**9)
"""
BAR_STATE = "[len(REFRESHER.views), bar.bar.value, bar.finished.is_set(), bar.bar.bar_style]"


def test_ctrl_c_ends_a_progress_wait_quietly_and_the_bar_stays_live(kernel):
    kernel.check(ENDLESS)
    kernel.check("endless = Endless.remote()\nray.get(endless.get_progress.remote())")
    result, after_ctrl_c = kernel.interrupt_after("%actor_progress endless --wait --interval 0.1", 1.0)
    assert after_ctrl_c < 1
    assert (result.error, result.stdout, result.stderr) == (None, "", "")
    kernel.check("from ray_magics.live.refresher import REFRESHER\n(bar,) = REFRESHER.views")
    views, value, finished, style = kernel.value(BAR_STATE)
    time.sleep(0.5)
    assert kernel.value(BAR_STATE)[1] > value
    assert (views, finished, style) == (1, False, "info")
    kernel.check("REFRESHER.end_all('test over')")


BUSY = """%%actor
class Busy:
    '''Tracked; busy in C code that holds the GIL, so no thread of it reads its call counts and %actors waits.'''
    def work(self, n):
        return sum(range(n))
"""


def test_ctrl_c_while_actors_waits_for_call_counts_leaves_the_refresher_and_next_magic_working(kernel):
    kernel.check(ENDLESS)
    kernel.check(BUSY)
    kernel.check("import ray_magics\nfrom ray_magics.live.refresher import REFRESHER\n"
                 "endless = Endless.remote()\nbar = ray_magics.progress(endless, interval=0.1)\n"
                 "busy = Busy.remote()\nray.get(busy.work.remote(0))\nbusy.work.remote(10**11)")
    result, after_ctrl_c = kernel.interrupt_after("%actors --class Busy", 0.3)
    assert after_ctrl_c < 1
    assert result.error == ("KeyboardInterrupt", "%actors was interrupted")
    assert result.traceback == ["KeyboardInterrupt: %actors was interrupted"]  # no frames to draw
    views, value, finished, style = kernel.value(BAR_STATE)
    time.sleep(0.5)
    assert kernel.value(BAR_STATE)[1] > value
    assert (views, finished) == (1, False)
    shown = kernel.check("%actors --class Endless").text
    assert "Endless" in shown and "ALIVE" in shown
    kernel.check("REFRESHER.end_all('test over')\nray.kill(busy)")


UNREACHABLE = """
import json, sys, time
from IPython.core.error import UsageError
from IPython.testing.globalipapp import start_ipython
import ray
ip = start_ipython()
ip.run_line_magic("load_ext", "ray_magics")
report = []
for line in sys.argv[1:]:
    started = time.monotonic()
    try:
        ip.run_line_magic("ray_init", line)
        outcome = "no error"
    except UsageError as error:
        outcome = str(error)
    report.append([outcome, time.monotonic() - started, ray.is_initialized()])
print("REPORT", json.dumps(report))
"""


def test_ray_out_of_reach_at_an_address_is_one_line_within_the_timeout():
    port = free_port()
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        silent_port = silent.getsockname()[1]
        lines = [
            f"--address 127.0.0.1:{port}",
            f"--address ray://127.0.0.1:{port} --timeout 3",
            f"--address 127.0.0.1:{silent_port} --timeout 2",
        ]
        [outcomes] = reports(sys.executable, UNREACHABLE, *lines, timeout=120)
    (refused, seconds, initialized), (client_refused, client_seconds, _), (silent_one, silent_seconds, after) = outcomes
    assert refused == f"%ray_init: could not reach 127.0.0.1:{port}: Connection refused"
    assert client_refused == f"%ray_init: could not reach ray://127.0.0.1:{port}: Connection refused"
    assert max(seconds, client_seconds) < 1
    assert silent_one == f"%ray_init: could not start 127.0.0.1:{silent_port}: no answer within 2 s"
    assert 2 <= silent_seconds < 3
    assert (initialized, after) == (False, False)


def test_the_connect_timeout_is_a_validated_setting_and_a_ray_init_option(ip):
    magics = ip.magics_manager.registry["RayMagics"]
    assert magics.connect_timeout == 10
    with pytest.raises(TraitError, match="RayMagics.connect_timeout must be a number of seconds > 0"):
        magics.connect_timeout = 0
    assert usage_error(lambda: ip.run_line_magic("ray_init", "--timeout 2")) == (
        "%ray_init: --timeout applies to a cluster at --address only"
    )
    assert usage_error(lambda: ip.run_line_magic("ray_init", "--address 127.0.0.1:1 --timeout 0")) == (
        "%ray_init: argument --timeout: expected a number of seconds > 0, got '0'"
    )
    assert usage_error(lambda: ip.run_line_magic("ray_init", "--address 127.0.0.1:1 --timeout -1")) == (
        "%ray_init: argument --timeout: expected a number of seconds > 0, got '-1'"
    )


def test_a_cluster_on_another_ray_is_one_line_naming_both_versions():
    """The error Ray's own version check raises when a driver joins a cluster of another release."""
    from ray._private.utils import check_version_info

    from ray_magics.session.lifecycle import failure_reason

    with pytest.raises(RuntimeError) as mismatch:
        check_version_info({"ray_version": "2.49.1", "python_version": "3.10.12"}, "127.0.0.1:6379")
    assert failure_reason(mismatch.value) == (
        f"the cluster runs Ray 2.49.1 (Python 3.10.12), this kernel Ray {ray.__version__} "
        f"(Python {'.'.join(map(str, sys.version_info[:3]))}); a driver needs the cluster's versions"
    )
    assert failure_reason(RuntimeError("first line\nsecond")) == "first line"


@pytest.mark.parametrize("how", ["shutdown", "restart"])
def test_a_kernel_shut_down_or_restarted_stops_its_ray_before_the_server_loses_patience(tmp_path, how):
    """ipykernel ends the kernel's child processes one signal after another for up to half a
    minute; a Jupyter server sends SIGTERM after half its `shutdown_wait_time` (Ray then prints
    a crash stack into the server's log) and SIGKILL after all of it, leaving the actors running."""
    from .kernel_driver import Kernel

    log = tmp_path / "kernel-stderr.log"
    with log.open("w") as stderr:
        kernel = Kernel(stderr=stderr)
        try:
            kernel.check("%load_ext ray_magics\n%config RayMagics.num_cpus = 1\nimport os, ray")
            kernel.check(TWO_CLASSES)
            kernel.check("job = Job.remote()\nray.get(job.get_progress.remote())")
            ray_processes = psutil.Process(kernel.value("os.getpid()")).children(recursive=True)
            assert any(process.name() == "raylet" for process in ray_processes)
            started = time.monotonic()
            if how == "restart":
                kernel.manager.restart_kernel(now=False)
            else:
                kernel.manager.shutdown_kernel(now=False)
            took = time.monotonic() - started
        finally:
            kernel.client.stop_channels()
            if kernel.manager.has_kernel:
                kernel.manager.shutdown_kernel(now=True)
    assert not [process.name() for process in ray_processes if _still_running(process)]
    assert "SIGTERM received" not in log.read_text()
    assert took < kernel.manager.shutdown_wait_time


def _still_running(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
