"""Progress bars over ObjectRefs (`ray_magics.progress(refs)`, `%refs_progress`): real tasks and
actor calls, refs that fail, refs whose owner died; no value is ever deserialized."""

import os
import time

import pytest
import ray
from IPython.core.error import UsageError

import ray_magics
from ray_magics.live.refs_progress_view import RefsProgressView

from .conftest import usage_error, wait_for

pytestmark = pytest.mark.usefixtures("no_live_views")

FAST = 0.05


@ray.remote
def nap(seconds, value=None):
    time.sleep(seconds)
    return value


@ray.remote
def fail_after(seconds, message):
    time.sleep(seconds)
    raise ValueError(message)


class Unpickled:
    """A value whose every deserialization leaves a line in the file `path`."""

    def __init__(self, path, size):
        self.path, self.padding = path, b"x" * size

    def __reduce__(self):
        return note_unpickling, (self.path, self.padding)


def note_unpickling(path, padding):
    with open(path, "a") as notes:
        notes.write("unpickled\n")
    return len(padding)


@ray.remote
def make_unpickled(path, size):
    return Unpickled(path, size)


@ray.remote
class Owner:
    """Submits tasks itself, so it owns their refs."""

    def submit(self, count):
        self.refs = [nap.remote(30) for _ in range(count)]
        return self.refs


def test_done_counts_the_ready_refs_with_rate_and_turns_green(ip):
    refs = [nap.remote(0.1 * step) for step in range(6)]
    bar = ray_magics.progress(refs, interval=FAST, unit="tasks")
    wait_for(lambda: 0 < bar.bar.value < 1, timeout=30, what="some of the refs ready, not all")  # (workers start)
    assert "tasks/s" in bar.info.value and "ETA" in bar.info.value
    assert bar.wait(30)
    assert (bar.bar.value, bar.bar.bar_style) == (1, "success")
    assert repr(bar) == "Progress: 100% (6/6 tasks) done"


def test_no_value_is_ever_deserialized_small_or_in_the_object_store(ip, tmp_path):
    path = str(tmp_path / "unpickled")
    refs = [make_unpickled.remote(path, size) for size in (10, 10, 1_000_000, 1_000_000)]  # memory and store
    refs.append(fail_after.remote(0, "the only failure"))
    bar = ray_magics.progress(refs, interval=FAST)
    assert bar.wait(10)
    assert repr(bar) == "Progress: 100% (5/5) failed: 1 of 5 refs, first ValueError: the only failure"
    assert not os.path.exists(path)
    assert ray.get(refs[:4]) == [10, 10, 1_000_000, 1_000_000]  # (the check itself sees unpickling)
    assert open(path).read().count("unpickled") == 4


def test_the_first_failure_turns_the_bar_red_and_the_failures_are_counted(ip):
    refs = [fail_after.remote(0.2, "first"), nap.remote(1.5), fail_after.remote(0.6, "second")]
    bar = ray_magics.progress(refs, interval=FAST)
    wait_for(lambda: bar.bar.bar_style == "danger", what="the bar red at the first failure")
    assert "failed: 1 of 3 refs, first ValueError: first" in bar.info.value
    assert not bar.finished.is_set()  # it goes on counting
    assert bar.wait(5)
    assert bar.bar.bar_style == "danger"
    assert repr(bar) == "Progress: 100% (3/3) failed: 2 of 3 refs, first ValueError: first"


def test_refs_whose_owner_died_turn_the_bar_red_with_the_cause(ip):
    owner = Owner.remote()
    refs = ray.get(owner.submit.remote(3))
    bar = ray_magics.progress(refs, interval=FAST)
    time.sleep(0.3)
    assert not bar.finished.is_set()
    ray.kill(owner)
    assert bar.wait(10)
    assert bar.bar.bar_style == "danger"
    assert repr(bar) == ("Progress: 100% (3/3) failed: 3 of 3 refs, "
                         "first OwnerDiedError: the owner of the ref died (the worker that made it)")


def test_actor_calls_a_dict_a_generator_and_one_ref_are_accepted(ip):
    owner = Owner.remote()
    try:
        calls = {"a": owner.submit.remote(0), "b": nap.remote(0)}
        for refs, total in ((calls, 2), ((nap.remote(0) for _ in range(3)), 3), (nap.remote(0), 1)):
            bar = ray_magics.progress(refs, interval=FAST)
            assert bar.wait(30) and isinstance(bar, RefsProgressView)  # (the first call waits for a worker)
            assert repr(bar) == f"Progress: 100% ({total}/{total}) done"
    finally:
        ray.kill(owner)


def test_an_empty_list_is_a_bar_finished_at_once(ip):
    bar = ray_magics.progress([], interval=FAST)
    assert bar.wait(2)
    assert (bar.bar.bar_style, repr(bar)) == ("success", "Progress: 100% (0/0) done")


@pytest.mark.parametrize("value,message", [
    ([nap.remote(0), 3], "expected ObjectRefs, but item 1 is of type int"),
    (3, "expected a Ray actor handle or ObjectRefs, got int"),
    ("refs", "expected a Ray actor handle or ObjectRefs, got str"),
])
def test_what_is_not_refs_is_refused_in_one_line(ip, value, message):
    with pytest.raises(TypeError, match=f"^{message}$"):
        ray_magics.progress(value)


def test_the_magic_makes_the_bar_and_refuses_bad_input_in_one_line(ip, capsys):
    ip.user_ns["refs"] = [nap.remote(0.1) for _ in range(4)]
    ip.run_line_magic("refs_progress", "refs --wait --unit naps --description Naps")
    assert capsys.readouterr().out == "Naps: 100% (4/4 naps) done\n"
    ip.user_ns["handle"] = Owner.remote()
    ip.user_ns["mixed"] = [nap.remote(0), "x"]
    try:
        for line, error in (("handle", "handle is an actor handle: use %actor_progress handle"),
                            ("mixed", "expected ObjectRefs, but item 1 is of type str"),
                            ("nothing", "name 'nothing' is not defined"),
                            ("refs --timeout 1", "--timeout needs --wait")):
            with pytest.raises(UsageError, match=f"^%refs_progress: {error}$"):
                ip.run_line_magic("refs_progress", line)
    finally:
        ray.kill(ip.user_ns["handle"])


@pytest.mark.parametrize("value,kind", [(42, "int"), ("refs", "str"), (None, "NoneType")])
def test_the_magic_names_only_what_it_takes(ip, value, kind):
    ip.user_ns["x"] = value
    message = usage_error(lambda: ip.run_line_magic("refs_progress", "x"))
    assert message == f"%refs_progress: expected ObjectRefs, got {kind}"
