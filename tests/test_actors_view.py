"""`%actors` and `ray_magics.actors`: the cluster's actors from the GCS, drawn once or kept live."""


import pytest
import ray
from IPython.utils.capture import capture_output

import ray_magics
from ray_magics.live.refresher import REFRESHER
from ray_magics.live.view import SWITCH

from .conftest import usage_error, wait_for

pytestmark = pytest.mark.usefixtures("no_live_views")

FAST = 0.05

WORKERS = """
import os
class Worker:
    def pid(self):
        return os.getpid()
    def work(self):
        return 1
    def fail(self):
        raise ValueError("no")
"""
PLAIN = "import os\nclass Plain:\n    def pid(self):\n        return os.getpid()\n"


@pytest.fixture(scope="module")
def classes(session_shell):
    """The tracked `Worker` and the untracked `Plain` actor classes."""
    with capture_output():
        session_shell.run_cell_magic("actor", "", WORKERS)
        session_shell.run_cell_magic("actor", "--no-track", PLAIN)
    return session_shell.user_ns.pop("Worker"), session_shell.user_ns.pop("Plain")


@pytest.fixture
def spawn():
    """Starts actors (returning once they are alive) and kills them after the test."""
    started = []

    def make(actor_class, **options):
        handle = actor_class.options(**options).remote() if options else actor_class.remote()
        started.append(handle)
        ray.get(handle.__ray_ready__.remote())
        return handle

    yield make
    for handle in started:
        ray.kill(handle)


def rows_by_name(view):
    return {row["name"]: row for row in view.rows}


def test_rows_show_live_tracked_and_untracked_actors(classes, spawn):
    worker_class, plain_class = classes
    worker, plain = spawn(worker_class, name="w-rows"), spawn(plain_class, name="p-rows")
    worker_pid, plain_pid = ray.get([worker.pid.remote(), plain.pid.remote()])
    node = ray.get_runtime_context().get_node_id()[:8]
    rows = rows_by_name(ray_magics.actors())
    assert {key: rows["w-rows"][key] for key in ("class", "state", "pid", "node", "restarts")} == {
        "class": "Worker", "state": "ALIVE", "pid": str(worker_pid), "node": node, "restarts": "0",
    }
    assert rows["w-rows"]["calls"] == "pid 1"
    assert (rows["p-rows"]["class"], rows["p-rows"]["pid"], rows["p-rows"]["calls"]) == ("Plain", str(plain_pid), "")
    assert len(rows["w-rows"]["id"]) == 8 and rows["w-rows"]["uptime"].startswith("00:")


def test_call_counts_appear_per_method_with_failures(classes, spawn):
    worker = spawn(classes[0], name="w-counts")
    assert rows_by_name(ray_magics.actors())["w-counts"]["calls"] == "no calls"
    ray.get([worker.work.remote() for _ in range(14)])
    with pytest.raises(ray.exceptions.RayTaskError):
        ray.get(worker.fail.remote())
    assert rows_by_name(ray_magics.actors())["w-counts"]["calls"] == "fail 1 (1 failed) · work 14"


def test_a_killed_actor_is_dead_with_its_cause_only_with_all(classes, spawn):
    worker = spawn(classes[0], name="w-dead")
    ray.get(worker.pid.remote())
    ray.kill(worker)
    wait_for(lambda: rows_by_name(ray_magics.actors(all=True))["w-dead"]["state"] == "DEAD")
    row = rows_by_name(ray_magics.actors(all=True))["w-dead"]
    assert row["death cause"] == "The actor is dead because it was killed by `ray.kill`."
    assert row["calls"] == "" and row["pid"]
    shown = ray_magics.actors()
    assert "w-dead" not in rows_by_name(shown)
    assert "death cause" not in repr(shown).splitlines()[0]


def test_the_class_filter_and_the_text_table(ip, classes, spawn):
    spawn(classes[0], name="w-class")
    spawn(classes[1], name="p-class")
    with capture_output() as out:
        ip.run_line_magic("actors", "--class Plain")
    header, *lines = out.stdout.splitlines()
    assert header.split() == ["id", "class", "name", "state", "pid", "node", "restarts", "uptime", "calls"]
    assert all(line.split()[1] == "Plain" for line in lines)
    assert any("p-class" in line for line in lines) and "w-class" not in out.stdout
    with capture_output() as out:
        ip.run_line_magic("actors", "--class Nobody")
    assert out.stdout == "No actors of class 'Nobody'.\n"


METHODS = [f"method_with_a_long_name_{index:02d}" for index in range(20)]
WIDE = "class Wide:\n" + "".join(f"    def {name}(self):\n        return 1\n" for name in METHODS)


def test_the_text_table_wraps_long_call_lists_so_the_death_cause_stays_in_view(ip, spawn):
    with capture_output():
        ip.run_cell_magic("actor", "", WIDE)
    busy, dead = spawn(ip.user_ns["Wide"]), spawn(ip.user_ns["Wide"])
    ray.get([getattr(busy, name).remote() for name in METHODS])
    ray.kill(dead)
    wait_for(lambda: any(row["state"] == "DEAD" for row in ray_magics.actors(all=True, class_name="Wide").rows))
    with capture_output() as out:
        ip.run_line_magic("actors", "--all --class Wide")
    header, *lines = out.stdout.splitlines()
    calls_at, death_at = header.index("calls"), header.index("death cause")
    assert death_at < 120
    assert all(len(line[:death_at].rstrip()) < death_at - 1 for line in lines)  # the calls end before it
    assert len(lines) > 2  # the calls of the live actor take several lines
    calls = " · ".join(line[calls_at:death_at].strip() for line in lines if line[calls_at:death_at].strip())
    assert calls == " · ".join(f"{name} 1" for name in sorted(METHODS))
    assert any(line.endswith("killed by `ray.kill`.") for line in lines)


def test_names_are_html_escaped(ip, spawn):
    with capture_output():
        ip.run_cell_magic("actor", "--name <script>x</script>", "class Evil:\n    def ping(self):\n        return 1\n")
    spawn(ip.user_ns["Evil"])
    view = ray_magics.actors(class_name="Evil")
    wait_for(lambda: "Evil" in view.widget.value)
    assert "&lt;script&gt;x&lt;/script&gt;" in view.widget.value
    assert "<script>" not in view.widget.value
    assert "<span style='color:green;font-weight:bold'>ALIVE</span>" in view.widget.get_state()["value"]
    assert rows_by_name(view)["<script>x</script>"]["class"] == "Evil"


def test_watch_shows_new_actors_and_stops_with_the_refresher(classes, spawn):
    view = ray_magics.actors(class_name="Plain", watch=True, interval=FAST)
    assert view in REFRESHER.views and view.interval == FAST
    spawn(classes[1], name="p-watch")
    wait_for(lambda: "p-watch" in rows_by_name(view) and rows_by_name(view)["p-watch"]["state"] == "ALIVE")
    REFRESHER.end_all("Ray shut down")
    assert view.finished.is_set() and REFRESHER.thread is None
    assert repr(view).endswith("\nstopped: Ray shut down")
    assert "stopped: Ray shut down" in view.widget.value


def test_the_magic_shows_a_widget_with_the_table_as_text(ip, classes, spawn, monkeypatch):
    monkeypatch.setenv(SWITCH, "1")
    spawn(classes[1], name="p-widget")
    with capture_output() as out:
        ip.run_line_magic("actors", "--class Plain --watch --interval 0.1")
    (shown,) = out.outputs
    assert "application/vnd.jupyter.widget-view+json" in shown.data
    assert shown.data["text/plain"].startswith("id ")
    assert len(REFRESHER.views) == 1 and REFRESHER.views[0].interval == 0.1


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("--colour red", "%actors: unrecognized arguments: --colour red"),
        ("Worker", "%actors: unrecognized arguments: Worker"),
        ("--class", "%actors: argument --class: expected one argument"),
        ("--interval 1", "%actors: interval needs watch"),
        ("--watch --interval -1", "%actors: argument --interval: expected a number of seconds > 0, got '-1'"),
        ("--watch --interval 0", "%actors: argument --interval: expected a number of seconds > 0, got '0'"),
    ],
)
def test_bad_input_is_one_line_and_starts_nothing(ip, line, expected):
    assert usage_error(lambda: ip.run_line_magic("actors", line)).startswith(expected)
    assert not REFRESHER.views and REFRESHER.thread is None
