"""`%actor_table` and `ray_magics.table`: live tables of what real actors return."""

import threading
import time
from html.parser import HTMLParser

import pytest
import ray
from IPython.utils.capture import capture_output

import ray_magics
from ray_magics.live.refresher import REFRESHER, THREAD_NAME
from ray_magics.live.view import SWITCH

from .conftest import usage_error, wait_for
from .scripted_actor import SCRIPTED

pytestmark = pytest.mark.usefixtures("no_live_views")

FAST = 0.05

SUPERVISOR = """
class Supervisor:
    '''The tutorials' supervisor of three workers; each `state()` call moves them one step on.'''
    STEPS = (
        ["RUNNING", "PENDING", "PENDING"],
        ["DONE", "RUNNING", "PENDING"],
        ["DONE", "DONE", "RUNNING"],
        ["DONE", "DONE", "DONE"],
    )
    def __init__(self):
        self.calls = 0
    def reset(self):
        self.calls = 0
    def state(self):
        self.calls += 1
        return list(self.STEPS[min(self.calls, len(self.STEPS)) - 1])
    def state_calls(self):
        return self.calls
"""
ACTORS = SUPERVISOR + SCRIPTED


class Cells(HTMLParser):
    """The rows of an HTML table as (text, colour) pairs: the header row first."""

    def __init__(self, html: str):
        super().__init__()
        self.rows, self._colour = [], None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.rows[-1].append(["", None])
        elif tag == "span":
            self._colour = dict(attrs)["style"].split(";")[0].removeprefix("color:")

    def handle_endtag(self, tag):
        if tag == "span":
            self._colour = None

    def handle_data(self, data):
        if self.rows and self.rows[-1] and self.lasttag in ("td", "th", "span"):
            self.rows[-1][-1][0] += data
            self.rows[-1][-1][1] = self.rows[-1][-1][1] or self._colour


def texts(view):
    return [[text for text, _ in row] for row in Cells(view.widget.value).rows]


def colours(view):
    return {text: colour for row in Cells(view.widget.value).rows[1:] for text, colour in row}


@pytest.fixture(scope="module")
def actor_classes(session_shell):
    """The `Supervisor` and `Scripted` actor classes."""
    with capture_output():
        session_shell.run_cell_magic("actor", "--no-track", ACTORS)
    return session_shell.user_ns.pop("Supervisor"), session_shell.user_ns.pop("Scripted")


@pytest.fixture(scope="module")
def actors(actor_classes):
    """One actor of each class, shared by the tests (starting one takes seconds)."""
    handles = [actor_class.remote() for actor_class in actor_classes]
    yield handles
    for handle in handles:
        ray.kill(handle)


@pytest.fixture
def supervisor(actors):
    ray.get(actors[0].reset.remote())
    return actors[0]


@pytest.fixture
def scripted(actors):
    """The `Scripted` actor, set to return a value."""

    def make(value):
        ray.get(actors[1].set.remote(value))
        return actors[1]

    return make


def test_until_done_stops_the_supervisor_table_after_the_last_step(supervisor):
    view = ray_magics.table(supervisor.state, interval=FAST, until="DONE", wait=True, timeout=5)
    assert view.finished.is_set()
    assert texts(view) == [["#", "value"], ["0", "DONE"], ["1", "DONE"], ["2", "DONE"]]
    assert repr(view) == "Supervisor.state: 3 rows, done (all DONE)"
    assert view.polls == 4
    assert "done (all DONE) · 4 polls" in view.widget.value
    time.sleep(5 * FAST)
    assert ray.get(supervisor.state_calls.remote()) == 4 and view not in REFRESHER.views


def test_state_words_are_coloured_in_any_case_and_only_as_whole_values(scripted):
    words = ["RUNNING", "pending", "PENDING_CREATION", "Done", "ALIVE", "SUCCEEDED", "DEAD", "failed", "RESTARTING",
             "DONE soon", "running late"]
    view = ray_magics.table(scripted(words).get, interval=FAST)
    wait_for(lambda: len(texts(view)) == len(words) + 1)
    amber = "#d4a000"
    assert colours(view) == {
        "RUNNING": "blue", "pending": amber, "PENDING_CREATION": amber, "Done": "green", "ALIVE": "green",
        "SUCCEEDED": "green", "DEAD": "red", "failed": "red", "RESTARTING": "orange",
        "DONE soon": None, "running late": None, **{str(index): None for index in range(len(words))},
    }


def test_a_dict_shows_a_row_per_key(scripted):
    view = ray_magics.table(scripted({"loader": "ALIVE", "trainer": 3}).get, interval=FAST, until="ALIVE")
    wait_for(lambda: len(texts(view)) == 3)
    assert texts(view) == [["key", "value"], ["loader", "ALIVE"], ["trainer", "3"]]
    assert not view.finished.is_set()  # 3 is not ALIVE


def test_a_list_of_dicts_has_the_union_of_keys_and_until_reads_its_state_column(scripted):
    rows = [{"worker": "a", "state": "DONE"}, {"worker": "b", "steps": 7, "state": "DONE"}]
    view = ray_magics.table(scripted(rows).get, interval=FAST, until="DONE", wait=True, timeout=5)
    assert texts(view) == [["worker", "state", "steps"], ["a", "DONE", ""], ["b", "DONE", "7"]]
    assert view.finished.is_set() and repr(view) == "Scripted.get: 2 rows, done (all DONE)"


def test_until_without_a_state_column_compares_every_cell(scripted):
    handle = scripted([{"a": 1, "b": 1}, {"a": 1, "b": 2}])
    view = ray_magics.table(handle.get, interval=FAST, until=1)
    wait_for(lambda: len(texts(view)) == 3)
    assert not view.finished.is_set()
    ray.get(handle.set.remote([{"a": 1, "b": 1}, {"a": 1}]))  # a missing cell is not 1 either
    wait_for(lambda: texts(view)[2] == ["1", ""])
    ray.get(handle.set.remote([{"a": 1, "b": 1}]))
    assert view.wait(2) and repr(view) == "Scripted.get: 1 row, done (all 1)"


def test_values_and_keys_are_escaped(scripted):
    nasty = [{"<th>": "<script>alert(1)</script>", "name": "<img src=x onerror=alert(1)>", "q": "\"' onclick='x"}]
    view = ray_magics.table(scripted(nasty).get, interval=FAST)
    wait_for(lambda: len(texts(view)) == 2)
    html = view.widget.value
    assert "<script" not in html and "<img" not in html and "<th style='text-align:left'>&lt;th&gt;</th>" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&quot;&#x27; onclick=&#x27;x" in html
    assert texts(view)[0] == ["<th>", "name", "q"]
    assert texts(view)[1] == ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "\"' onclick='x"]


def test_an_unchanged_table_sends_nothing(scripted):
    view = ray_magics.table(scripted(["RUNNING"]).get, interval=FAST / 5)
    wait_for(lambda: view.polls >= 1)
    changes = []
    view.widget.observe(changes.append, "value")
    wait_for(lambda: view.polls >= 8)
    assert changes == []
    assert "last change at poll 1, 00:00 · polling every 0.01 s" in view.widget.value


def test_a_table_says_how_long_its_readings_have_not_come(scripted):
    handle = scripted([])
    ray.get(handle.set.remote(["RUNNING"], 2.0))  # every reading now takes 2 s
    view = ray_magics.table(handle.get, interval=FAST)
    wait_for(lambda: "<div style='color:gray;font-size:smaller'>waiting for the first reading (1 s)</div>"
             in view.widget.value, what="the first reading's wait")
    assert repr(view).startswith("Scripted.get: no rows yet, waiting for the first reading (")
    wait_for(lambda: view.polls == 1, what="the first reading")
    wait_for(lambda: "<div style='color:orange'>slow: last reading 1 s ago</div>" in view.widget.value,
             what="the next reading late")
    assert texts(view) == [["#", "value"], ["0", "RUNNING"]]
    assert repr(view).startswith("Scripted.get: 1 row, slow: last reading ")
    wait_for(lambda: view.polls == 2, what="the late reading")
    assert repr(view) == "Scripted.get: 1 row, running"
    REFRESHER.end_all("test over")
    ray.get(handle.set.remote([]))  # (after the poll in flight: the actor serves one call at a time)


def test_a_killed_actor_turns_the_table_red_with_the_reason_and_stops(actor_classes):
    handle = actor_classes[1].remote()
    ray.get(handle.set.remote(["RUNNING"]))
    view = ray_magics.table(handle.get, interval=FAST)
    wait_for(lambda: view.polls >= 1)
    ray.kill(handle)
    assert view.wait(2)
    assert repr(view) == "Scripted.get: 1 row, failed: The actor is dead because it was killed by `ray.kill`."
    assert "<div style='color:red'>failed: The actor is dead because it was killed by `ray.kill`." in view.widget.value
    assert view not in REFRESHER.views


OVERSEER = """
class Overseer:
    '''A supervisor: its state is its worker's.'''
    def __init__(self, worker):
        self.worker = worker
    def state(self):
        import ray
        return ray.get(self.worker.get.remote())
"""


def test_a_method_failing_with_another_actors_death_stops_the_table_with_that_error(ip, actor_classes):
    """A supervisor's poll that fails because its worker died: Ray's error is a RayTaskError that is also an
    ActorDiedError, about the worker; the polled actor lives on, so the view ends with the method's error."""
    with capture_output():
        ip.run_cell_magic("actor", "", OVERSEER)
    worker = actor_classes[1].remote()
    ray.get(worker.set.remote(["RUNNING"]))
    overseer = ip.user_ns["Overseer"].remote(worker)
    view = ray_magics.table(overseer.state, interval=FAST)
    wait_for(lambda: view.polls >= 1)
    ray.kill(worker)
    assert view.wait(5)
    reason = "ActorDiedError: The actor died unexpectedly before finishing this task."
    assert repr(view) == f"Overseer.state: 1 row, failed: {reason}"
    assert ray.get(overseer.__ray_ready__.remote())  # the polled actor itself lives on
    ray.kill(overseer)


def test_a_method_that_raises_or_returns_nonsense_stops_the_table(scripted):
    handle = scripted(["RUNNING"])
    view = ray_magics.table(handle.get, interval=FAST)
    wait_for(lambda: view.polls >= 1)
    ray.get(handle.set.remote(ValueError("disk <full>\nmore detail")))
    assert view.wait(2)
    assert repr(view) == "Scripted.get: 1 row, failed: ValueError: disk <full>"
    assert "failed: ValueError: disk &lt;full&gt;" in view.widget.value
    assert texts(view) == [["#", "value"], ["0", "RUNNING"]]  # the last table stays
    nonsense = ray_magics.table(scripted(42).get, interval=FAST)
    assert nonsense.wait(2)
    assert repr(nonsense) == "Scripted.get: no rows yet, failed: expected a list, a dict or a list of dicts, got int 42"


def test_magic_wait_prints_one_final_line_without_widgets(ip, supervisor):
    ip.user_ns["sup"] = supervisor
    with capture_output() as out:
        result = ip.run_line_magic("actor_table", "sup.state --interval 0.05 --until DONE --wait --timeout 5")
    assert result is None
    assert out.stdout == "sup.state: 3 rows, done (all DONE)\n"
    assert not out.outputs


def test_magic_shows_the_widget_with_deterministic_text(ip, supervisor, monkeypatch):
    monkeypatch.setenv(SWITCH, "1")
    ip.user_ns["team"] = type("Team", (), {"sup": supervisor})
    with capture_output() as out:
        ip.run_line_magic("actor_table", "team.sup.state --interval 0.05 --until DONE")
    (shown,) = out.outputs
    assert "application/vnd.jupyter.widget-view+json" in shown.data
    assert shown.data["text/plain"] == "Live table of team.sup.state"
    assert not out.stdout
    (view,) = REFRESHER.views
    assert view.wait(5) and repr(view) == "team.sup.state: 3 rows, done (all DONE)"


def test_a_wait_timeout_ends_the_wait_and_leaves_the_table_live(ip, scripted):
    ip.user_ns["job"] = scripted(["RUNNING"])
    started = time.monotonic()
    with capture_output():
        ip.run_line_magic("actor_table", "job.get --interval 0.05 --until DONE --wait --timeout 0.3")
    assert 0.3 <= time.monotonic() - started < 2
    (view,) = REFRESHER.views
    assert not view.finished.is_set()
    assert repr(view) == "job.get: 1 row, running"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("", "%actor_table: the following arguments are required: HANDLE.METHOD"),
        ("job", "%actor_table: expected HANDLE.METHOD such as sup.state, got 'job'"),
        ("job.get()", "%actor_table: expected HANDLE.METHOD such as sup.state, got 'job.get()'"),
        ("missing.state", "%actor_table: name 'missing' is not defined"),
        ("number.real", "%actor_table: expected a Ray actor handle, got int"),
        ("job.nope", "%actor_table: the actor has no method 'nope'"),
        ("holder.nothing.state", "%actor_table: holder has no attribute 'nothing'"),
        ("__import__('os').getcwd", "%actor_table: expected a name or dotted attribute path"),
        ("job.get --interval 0", "%actor_table: argument --interval: expected a number of seconds > 0, got '0'"),
        ("job.get --interval soon", "%actor_table: argument --interval: expected a number, got 'soon'"),
        ("job.get --timeout 2", "%actor_table: --timeout needs --wait"),
        ("job.get --colour red", "%actor_table: unrecognized arguments: --colour red"),
    ],
)
def test_bad_input_is_one_line_and_starts_nothing(ip, scripted, line, expected):
    ip.user_ns.update(job=scripted([]), number=3, holder=object())
    before = dict(ip.user_ns)
    assert usage_error(lambda: ip.run_line_magic("actor_table", line)).startswith(expected)
    assert ip.user_ns == before
    assert not REFRESHER.views and REFRESHER.thread is None


def test_the_python_api_refuses_bad_input(scripted):
    handle = scripted([])
    with pytest.raises(TypeError, match="expected an actor method such as handle.state, got ActorHandle"):
        ray_magics.table(handle)
    with pytest.raises(ValueError, match="interval must be a number of seconds > 0"):
        ray_magics.table(handle.get, interval=-1)
    with pytest.raises(ValueError, match="timeout must be a number of seconds > 0"):
        ray_magics.table(handle.get, wait=True, timeout=0)
    assert not REFRESHER.views
    assert THREAD_NAME not in {thread.name for thread in threading.enumerate()}
