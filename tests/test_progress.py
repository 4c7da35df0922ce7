"""`%actor_progress` and `ray_magics.progress`: live bars driven by real actors, one refresher."""

import math
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest
import ray
from IPython.utils.capture import capture_output
from traitlets import TraitError

import ray_magics
from ray_magics.live.progress_view import ProgressView
from ray_magics.live.refresher import REFRESHER, THREAD_NAME
from ray_magics.live.view import SWITCH
from ray_magics.ray_internals import local_session_name

from .conftest import usage_error, wait_for
from .scripted_actor import SCRIPTED

pytestmark = pytest.mark.usefixtures("no_live_views")

FAST = 0.05

POOL_SIZE = 3


@pytest.fixture(scope="module")
def actor_pool(session_shell):
    """The `Scripted` actor class and a few threaded actors of it, shared (starting one takes seconds)."""
    with capture_output():
        session_shell.run_cell_magic("actor", "--no-track --max-concurrency 4", SCRIPTED)
    actor_class = session_shell.user_ns.pop("Scripted")
    handles = [actor_class.remote() for _ in range(POOL_SIZE)]
    ray.get([handle.set.remote(0.0) for handle in handles])
    session = local_session_name()
    yield actor_class, handles
    if local_session_name() == session:  # not gone with a Ray a test shut down (older Rays crash killing those)
        for handle in handles:
            ray.kill(handle)


@pytest.fixture
def scripted(actor_pool):
    """Hands out `Scripted` actors set to a value: pooled ones, or a fresh one to kill."""
    actor_class, pool = actor_pool
    spare = iter(pool)
    fresh_ones = []

    def make(value=0.0, fresh=False):
        handle = actor_class.remote() if fresh else next(spare)
        ray.get(handle.set.remote(value))
        if fresh:
            fresh_ones.append(handle)
        return handle

    yield make
    for handle in fresh_ones:
        ray.kill(handle)


def set_and_show(view, handle, value):
    """Make the actor report `value` and wait until the bar has drawn it."""
    ray.get(handle.set.remote(value))
    before = view.info.value
    wait_for(lambda: view.info.value != before or view.finished.is_set())


def refresher_threads():
    return [thread for thread in threading.enumerate() if thread.name == THREAD_NAME]


def test_a_fraction_runs_as_info_then_turns_to_success_and_stops(scripted):
    handle = scripted(0.25)
    view = ray_magics.progress(handle, interval=FAST)
    wait_for(lambda: view.bar.value == 0.25)
    assert view.bar.get_state()["bar_style"] == "info"
    assert repr(view) == "Progress: 25% running"
    assert view in REFRESHER.views
    set_and_show(view, handle, 1.0)
    assert view.finished.wait(2)
    assert (view.bar.value, view.bar.bar_style) == (1.0, "success")
    assert repr(view) == "Progress: 100% done"
    wait_for(lambda: view not in REFRESHER.views and REFRESHER.thread is None)


def test_counts_show_unit_rate_elapsed_and_eta(scripted):
    handle = scripted((3, 30))
    view = ray_magics.progress(handle, interval=FAST, unit="samples")
    wait_for(lambda: view.bar.value == pytest.approx(0.1))
    assert repr(view) == "Progress: 10% (3/30 samples) running"
    set_and_show(view, handle, (15, 30))
    info = view.info.value
    assert info.startswith("50% · 15/30 samples · ")
    assert "samples/s" in info and "elapsed" in info and "ETA 00:" in info
    set_and_show(view, handle, (30, 30))
    assert view.finished.wait(2)
    assert repr(view) == "Progress: 100% (30/30 samples) done"
    assert "ETA" not in view.info.value
    assert view.bar.get_state()["bar_style"] == "success"


def test_parts_are_drawn_as_escaped_sub_bars(scripted):
    handle = scripted({"done": 1, "total": 4, "parts": {"load": 1.0, "<script>train": (1, 4)}})
    view = ray_magics.progress(handle, interval=FAST, description="<script>alert(1)</script>")
    wait_for(lambda: len(view.parts.children) == 2)
    (load_label, load_bar, _), (train_label, train_bar, train_info) = (row.children for row in view.parts.children)
    assert view.label.value == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert (load_label.value, load_bar.value, load_bar.bar_style) == ("load", 1.0, "success")
    assert (train_label.value, train_bar.value, train_bar.bar_style) == ("&lt;script&gt;train", 0.25, "info")
    assert train_info.value == "25% 1/4"
    assert repr(view) == "<script>alert(1)</script>: 25% (1/4) running"
    set_and_show(view, handle, {"done": 2, "total": 4, "parts": {"load": 1.0, "<script>train": (3, 4)}})
    assert view.parts.children[1].children[1] is train_bar  # same widgets, new values
    assert train_bar.value == 0.75
    set_and_show(view, handle, {"done": 3, "total": 4, "parts": {"eval": 0.5}})
    assert [row.children[0].value for row in view.parts.children] == ["eval"]


def test_a_killed_actor_turns_the_bar_to_danger_with_the_reason(scripted):
    handle = scripted(0.5, fresh=True)
    view = ray_magics.progress(handle, interval=FAST)
    wait_for(lambda: view.bar.value == 0.5)
    ray.kill(handle)
    assert view.finished.wait(2)
    assert view.bar.get_state()["bar_style"] == "danger"
    assert repr(view) == "Progress: 50% failed: The actor is dead because it was killed by `ray.kill`."
    assert "killed by `ray.kill`" in view.info.value


BAD_INIT = """
class BadInit:
    def __init__(self):
        raise RuntimeError("x")
    def get_progress(self):
        return 0.5
    def state(self):
        return ["RUNNING"]
"""


def test_an_actor_whose_init_raised_shows_the_users_exception_as_plain_text_in_bars_and_tables(ip):
    with capture_output():
        ip.run_cell_magic("actor", "", BAD_INIT)
        bad = ip.user_ns["BadInit"].remote()
        bar = ray_magics.progress(bad, interval=FAST, wait=True, timeout=30)
        table = ray_magics.table(bad.state, interval=FAST, wait=True, timeout=30)
    assert repr(bar) == "Progress: 0% failed: RuntimeError: x"
    assert (bar.info.value, bar.bar.bar_style) == ("0% RuntimeError: x", "danger")
    assert repr(table) == "BadInit.state: no rows yet, failed: RuntimeError: x"
    assert "<div style='color:red'>failed: RuntimeError: x · " in table.widget.value
    listing = ray_magics.actors(all=True, class_name="BadInit")
    assert [row["death cause"] for row in listing.rows] == ["RuntimeError: x"]
    assert not any("\x1b" in text for text in (repr(bar), repr(table), repr(listing)))


def test_a_method_that_raises_turns_the_bar_to_danger_for_good(scripted):
    handle = scripted(0.5)
    view = ray_magics.progress(handle, interval=FAST)
    wait_for(lambda: view.bar.value == 0.5)
    ray.get(handle.set.remote(ValueError("disk <full>\nmore detail")))
    assert view.finished.wait(2)
    assert repr(view) == "Progress: 50% failed: ValueError: disk <full>"
    assert view.info.value == "50% ValueError: disk &lt;full&gt;"
    assert view.show(1.0) is True  # danger is never overwritten
    assert (view.bar.bar_style, view.bar.value) == ("danger", 0.5)


def test_a_bar_says_how_long_its_readings_have_not_come(scripted):
    handle = scripted()
    ray.get(handle.set.remote((1, 4), 2.0))  # every reading now takes 2 s
    view = ray_magics.progress(handle, interval=FAST)
    wait_for(lambda: view.info.value == "0% waiting for the first reading (1 s)", what="the first reading's wait")
    assert repr(view).startswith("Progress: 0% waiting for the first reading (")
    wait_for(lambda: view.bar.value == 0.25, what="the first reading")
    wait_for(lambda: view.info.value == "25% slow: last reading 1 s ago", what="the next reading late")
    assert view.bar.bar_style == "warning"
    assert repr(view).startswith("Progress: 25% (1/4) slow: last reading ")
    ray.get(handle.set.remote((2, 4)))
    wait_for(lambda: view.bar.value == 0.5, what="the late reading")
    assert view.info.value.startswith("50% · 2/4 · ") and view.bar.bar_style == "info"
    assert repr(view) == "Progress: 50% (2/4) running"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (math.nan, "the fraction must be finite, got nan"),
        (-0.5, "the fraction must be in [0, 1], got -0.5"),
        (1.5, "the fraction must be in [0, 1], got 1.5"),
        ((5, 3), "done must be in [0, total], got 5 of 3"),
        ((1, 0), "total must be > 0, got 0"),
        ("soon", "expected a fraction in [0, 1], a (done, total) pair or a mapping with done and total, "
                 "got str 'soon'"),
        ({"done": 1}, "the mapping lacks total"),
        ({"done": 1, "total": 2, "parts": {"a": "x"}}, "part 'a': expected a fraction"),
    ],
    ids=["nan", "negative", "above-one", "done>total", "zero-total", "string", "no-total", "bad-part"],
)
def test_nonsense_turns_the_bar_to_danger_and_stops_polling(scripted, value, reason):
    handle = scripted(value)
    view = ray_magics.progress(handle, interval=FAST)
    assert view.finished.wait(2)
    assert view.bar.get_state()["bar_style"] == "danger"
    assert repr(view).startswith(f"Progress: 0% failed: {reason}")
    wait_for(lambda: REFRESHER.thread is None)


def test_fifty_views_share_one_thread_and_stop_within_a_second(scripted):
    handles = [scripted(0.5), scripted((1, 2))]
    views = [ray_magics.progress(handles[i % 2], interval=FAST) for i in range(50)]
    wait_for(lambda: all(view.bar.value == 0.5 for view in views))
    assert len(refresher_threads()) == 1
    started = time.monotonic()
    REFRESHER.end_all("Ray shut down")
    assert all(view.finished.wait(max(0, started + 1 - time.monotonic())) for view in views)
    assert not refresher_threads()
    assert time.monotonic() - started < 1
    assert {(view.bar.bar_style, repr(view).split(" failed: ")[1]) for view in views} == {("danger", "Ray shut down")}


def get_progress_tasks(handle) -> set:
    """The ids of the `get_progress` tasks of `handle`'s actor in the cluster's task list (the GCS's task events)."""
    from ray._private.state import state
    from ray.core.generated import gcs_pb2

    actor_id = handle._actor_id.binary()
    events = map(gcs_pb2.TaskEvents.FromString, state._connect_and_get_accessor().get_task_events())
    return {
        event.task_id for event in events
        if event.task_info.actor_id == actor_id and event.task_info.name.endswith("get_progress")
    }


def test_polls_leave_no_entries_in_the_clusters_task_list(scripted):
    handle = scripted(0.5, fresh=True)
    view = ray_magics.progress(handle, interval=FAST)
    wait_for(lambda: view.bar.value == 0.5)
    time.sleep(10 * FAST)
    REFRESHER.end_all("test over")
    own_call = handle.get_progress.remote()  # reported after the polls, so once it shows they would too
    assert ray.get(own_call) == 0.5
    wait_for(lambda: get_progress_tasks(handle), timeout=10, what="the task events reaching the GCS")
    assert get_progress_tasks(handle) == {own_call.task_id().binary()}


def test_a_slow_actor_holds_up_neither_the_kernel_nor_other_bars(scripted):
    slow, fast = scripted(), scripted(0.5)
    started = time.monotonic()
    stuck = ray_magics.progress(slow, method="slow_progress", interval=FAST)
    moving = ray_magics.progress(fast, interval=FAST)
    assert time.monotonic() - started < 1
    wait_for(lambda: moving.bar.value == 0.5)
    set_and_show(moving, fast, 1.0)
    assert moving.finished.wait(2)
    assert not stuck.finished.is_set() and stuck in REFRESHER.views


def test_unload_ext_stops_the_bars(session_shell, scripted):
    view = ray_magics.progress(scripted(0.5), interval=FAST)
    wait_for(lambda: view.bar.value == 0.5)
    session_shell.run_line_magic("unload_ext", "ray_magics")
    session_shell.run_line_magic("load_ext", "ray_magics")
    assert view.finished.is_set() and REFRESHER.thread is None
    assert repr(view) == "Progress: 50% failed: extension unloaded"


def test_magic_wait_returns_when_done_and_prints_one_line_without_widgets(ip, scripted):
    ip.user_ns["job"] = job = scripted((1, 4))
    finish = threading.Timer(0.3, lambda: ray.get(job.set.remote((4, 4))))
    finish.start()
    started = time.monotonic()
    with capture_output() as out:
        result = ip.run_line_magic("actor_progress", "job --interval 0.05 --unit samples --wait")
    finish.join()
    assert result is None
    assert time.monotonic() - started < 2
    assert out.stdout == "Progress: 100% (4/4 samples) done\n"
    assert not out.outputs


def test_magic_displays_the_widget_in_a_widget_front_end(ip, scripted, monkeypatch):
    monkeypatch.setenv(SWITCH, "1")
    ip.user_ns["actors"] = type("Actors", (), {"one": scripted(1.0)})
    with capture_output() as out:
        ip.run_line_magic("actor_progress", "actors.one --description Loading --wait --timeout 5")
    shown, *updates = out.outputs  # (then its text/plain updated to its last state, `text_form`)
    assert "application/vnd.jupyter.widget-view+json" in shown.data
    assert shown.data["text/plain"] == "Loading: live progress bar"
    assert updates[-1].data["text/plain"] == "Loading: 100% done"
    assert not out.stdout


def test_wait_timeout_and_ctrl_c_end_the_wait_and_leave_the_bar_live(ip, scripted):
    ip.user_ns["job"] = scripted(0.5)
    started = time.monotonic()
    with capture_output():
        ip.run_line_magic("actor_progress", "job --interval 0.05 --wait --timeout 0.3")
    assert 0.3 <= time.monotonic() - started < 2
    interrupt = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    interrupt.start()
    started = time.monotonic()
    with capture_output():
        ip.run_line_magic("actor_progress", "job --interval 0.05 --wait")
    interrupt.join()
    assert time.monotonic() - started < 2
    assert len(REFRESHER.views) == 2
    assert not any(view.finished.is_set() for view in REFRESHER.views)


def test_ctrl_c_landing_on_another_thread_still_ends_the_wait_at_once(ip, scripted):
    """A process's SIGINT may be delivered to any thread; the kernel's wait must still end."""
    ip.user_ns["job"] = scripted(0.5)
    pressed = []

    def press_ctrl_c_on_this_thread():
        pressed.append(time.monotonic())
        signal.pthread_kill(threading.get_ident(), signal.SIGINT)

    interrupt = threading.Timer(0.3, press_ctrl_c_on_this_thread)
    interrupt.start()
    with capture_output():
        ip.run_line_magic("actor_progress", "job --interval 0.05 --wait")
    interrupt.join()
    assert time.monotonic() - pressed[0] < 0.5
    assert len(REFRESHER.views) == 1 and not REFRESHER.views[0].finished.is_set()


def test_the_default_interval_is_a_validated_setting(ip, scripted):
    magics = ip.magics_manager.registry["RayMagics"]
    ip.run_line_magic("config", "RayMagics.refresh_interval = 0.2")
    try:
        assert ray_magics.progress(scripted(0.5)).interval == 0.2
        with pytest.raises(TraitError, match="RayMagics.refresh_interval must be a number of seconds > 0, got 0"):
            magics.refresh_interval = 0
    finally:
        magics.refresh_interval = 0.5


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("", "%actor_progress: the following arguments are required: HANDLE"),
        ("missing", "%actor_progress: name 'missing' is not defined"),
        ("number", "%actor_progress: expected a Ray actor handle, got int"),
        ("refs", "%actor_progress: refs are ObjectRefs: use %refs_progress refs"),
        ("job --method nope", "%actor_progress: the actor has no method 'nope'"),
        ("job --interval 0", "%actor_progress: argument --interval: expected a number of seconds > 0, got '0'"),
        ("job --interval -1", "%actor_progress: argument --interval: expected a number of seconds > 0, got '-1'"),
        ("job --timeout 2", "%actor_progress: --timeout needs --wait"),
        ("job --wait --timeout 0", "%actor_progress: argument --timeout: expected a number of seconds > 0, got '0'"),
        ("job.set()", "%actor_progress: expected a name or dotted attribute path, got 'job.set()'"),
        ("__import__('os').getcwd", "%actor_progress: expected a name or dotted attribute path"),
        ("holder.nothing", "%actor_progress: holder has no attribute 'nothing'"),
        ("job --colour red", "%actor_progress: unrecognized arguments: --colour red"),
    ],
)
def test_bad_input_is_one_line_and_starts_nothing(ip, scripted, line, expected):
    ip.user_ns.update(job=scripted(), number=3, holder=object(), refs=[ray.put(0)])
    before = dict(ip.user_ns)
    assert usage_error(lambda: ip.run_line_magic("actor_progress", line)).startswith(expected)
    assert ip.user_ns == before
    assert not REFRESHER.views and REFRESHER.thread is None


def test_the_python_api_refuses_bad_input(scripted):
    handle = scripted()
    with pytest.raises(TypeError, match="expected a Ray actor handle or ObjectRefs, got str"):
        ray_magics.progress("handle")
    with pytest.raises(ValueError, match="interval must be a number of seconds > 0"):
        ray_magics.progress(handle, interval=-1)
    with pytest.raises(ValueError, match="no method 'get_status'"):
        ray_magics.progress(handle, method="get_status")
    assert not REFRESHER.views


def test_ray_shutdown_stops_the_bars_before_ray():
    code = textwrap.dedent("""
        import threading, time
        from IPython.testing.globalipapp import start_ipython
        import ray_magics
        ip = start_ipython()
        ip.run_line_magic("load_ext", "ray_magics")
        ip.run_line_magic("ray_init", "--num-cpus 1")
        ip.run_cell_magic("actor", "", "class Half:\\n    def get_progress(self):\\n        return 0.5\\n")
        view = ray_magics.progress(ip.user_ns["Half"].remote(), interval=0.05)
        while view.bar.value != 0.5:
            time.sleep(0.01)
        ip.run_line_magic("ray_shutdown", "")
        print("RESULT", view.bar.bar_style, repr(view))
        print("RESULT", [t.name for t in threading.enumerate() if t.name.startswith("ray_magics")])
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    lines = [line.removeprefix("RESULT ") for line in result.stdout.splitlines() if line.startswith("RESULT")]
    assert lines == ["danger Progress: 50% failed: Ray shut down", "[]"]


def test_rate_elapsed_and_eta_follow_the_clock():
    now = [100.0]
    view = ProgressView(method=None, interval=1, unit="rows", clock=lambda: now[0])
    assert view.show((0, 10)) is False
    now[0] = 110.0
    view.show((5, 10))
    assert view.info.value == "50% · 5/10 rows · 0.5 rows/s · 00:10 elapsed · ETA 00:10"
    now[0] = 100.0 + 3725
    view.show((10, 10))
    assert view.info.value == "100% · 10/10 rows · 0.00268 rows/s · 1:02:05 elapsed"


def test_a_value_standing_still_redraws_only_its_clock_every_five_seconds():
    now = [100.0]
    view = ProgressView(method=None, interval=0.1, unit="rows", clock=lambda: now[0])
    view.show((2, 10))
    sent = []
    view.info.observe(lambda change: sent.append(change["new"]), "value")
    view.bar.observe(lambda change: sent.append(change["new"]), names=["value", "bar_style"])
    now[0] = 104.9
    view.show((2, 10))
    assert sent == []  # nothing shown has changed but the clock, and that is not due yet
    now[0] = 105.0
    view.show((2, 10))
    assert sent == ["20% · 2/10 rows · 0 rows/s · 00:05 elapsed"]
    view.pause("actor restarting (restart 1)")
    view.show((2, 10))  # the same value clears the notice
    assert (view.bar.bar_style, view.status) == ("info", "running")
    now[0] = 105.5
    view.show((5, 10))  # a new value is drawn at once
    assert (view.bar.value, view.info.value) == (0.5, "50% · 5/10 rows · 0.545 rows/s · 00:05 elapsed · ETA 00:09")


@pytest.fixture(scope="module")
def restart_ray(session_shell):
    """For a test that shuts Ray down: the session's Ray is started again once this module is done.

    Not sooner: the new Ray's own threads would count as the test's leaked threads.
    """
    yield
    if not ray.is_initialized():
        with capture_output():
            session_shell.run_line_magic("ray_init", "--num-cpus 2")


def test_a_direct_ray_shutdown_stops_every_view_within_a_second_and_starts_no_ray(session_shell, scripted,
                                                                                  restart_ray):
    bar_handles, table_handle = [scripted(0.5), scripted((1, 2))], scripted({"job": "RUNNING"})
    bars = [ray_magics.progress(bar_handles[i % 2], interval=FAST) for i in range(4)]
    state_table = ray_magics.table(table_handle.get_progress, interval=FAST)
    wait_for(lambda: all(bar.bar.value == 0.5 for bar in bars) and state_table.polls > 0)
    ray.shutdown()
    stopped_by = time.monotonic() + 1
    assert all(view.finished.wait(max(0, stopped_by - time.monotonic())) for view in [*bars, state_table])
    assert {repr(bar) for bar in bars} == {
        "Progress: 50% failed: Ray shut down", "Progress: 50% (1/2) failed: Ray shut down",
    }
    assert {bar.bar.get_state()["bar_style"] for bar in bars} == {"danger"}
    assert repr(state_table) == "Scripted.get_progress: 1 row, failed: Ray shut down"
    wait_for(lambda: REFRESHER.thread is None, timeout=1)
    with capture_output() as later:
        session_shell.run_cell("after_shutdown = 1 + 1")
    assert "Traceback" not in later.stdout + later.stderr
    assert not ray.is_initialized()  # the refresher never started a Ray of its own
