"""Call tracking: exact counts of the calls each actor serves, per public method."""

import time

import pytest
import ray
from IPython.utils.capture import capture_output

import ray_magics

from .conftest import wait_for

CONCURRENT_CALLS = 200


def define(ip, line, cell):
    with capture_output():
        ip.run_cell_magic("actor", line, cell)
    return ip.user_ns


@pytest.mark.parametrize(
    ("line", "method"),
    [
        ("--max-concurrency 16", "def hit(self):\n        time.sleep(0.001)"),
        ("", "async def hit(self):\n        await asyncio.sleep(0.001)"),
        ("--max-concurrency 1", "def hit(self):\n        pass"),
    ],
    ids=["threaded", "async", "serial"],
)
def test_counts_are_exact_under_concurrent_calls(ip, line, method):
    ns = define(ip, line, f"import asyncio, time\nclass Target:\n    {method}\n    def other(self):\n        pass\n")
    handle = ns["Target"].remote()
    ray.get([handle.hit.remote() for _ in range(CONCURRENT_CALLS)])
    counts = ray_magics.calls(handle)
    assert counts == {"hit": CONCURRENT_CALLS, "other": 0}
    assert counts.failures == {"hit": 0, "other": 0}


def test_calls_from_tasks_and_from_many_callers_add_up(ip):
    ns = define(ip, "--max-concurrency 8", "class Sink:\n    def put(self, x):\n        return x\n")
    ip.run_cell("""
import ray
@ray.remote
def feed(sink, n):
    return len(ray.get([sink.put.remote(i) for i in range(n)]))
""")
    handle = ns["Sink"].remote()
    assert sum(ray.get([ns["feed"].remote(handle, 50) for _ in range(4)])) == CONCURRENT_CALLS
    assert ray_magics.calls(handle) == {"put": CONCURRENT_CALLS}


def test_failures_are_counted_as_calls_and_failures(ip):
    ns = define(ip, "", """
class Fragile:
    def risky(self, fail):
        if fail:
            raise ValueError("no")
        return "ok"
""")
    handle = ns["Fragile"].remote()
    refs = [handle.risky.remote(i % 3 == 0) for i in range(9)]
    outcomes = []
    for ref in refs:
        try:
            outcomes.append(ray.get(ref))
        except ray.exceptions.RayTaskError:
            outcomes.append("failed")
    assert outcomes.count("failed") == 3
    counts = ray_magics.calls(handle)
    assert counts == {"risky": 9}
    assert counts.failures == {"risky": 3}


def test_calls_an_actor_makes_to_itself_are_not_counted(ip):
    ns = define(ip, "", """
class Layered:
    def outer(self):
        return self.inner() + self.inner()
    def inner(self):
        return 1
    async def _private(self):
        return 0
""")
    handle = ns["Layered"].remote()
    assert ray.get(handle.outer.remote()) == 2
    assert ray_magics.calls(handle) == {"inner": 0, "outer": 1}


def test_generators_count_one_call_and_their_failures(ip):
    ns = define(ip, "", """
class Streams:
    def numbers(self, n):
        for i in range(n):
            if i == 2:
                raise RuntimeError("stop")
            yield i
""")
    handle = ns["Streams"].remote()
    assert [ray.get(ref) for ref in handle.numbers.remote(2)] == [0, 1]
    with pytest.raises(ray.exceptions.RayTaskError):
        [ray.get(ref) for ref in handle.numbers.remote(5)]
    counts = ray_magics.calls(handle)
    assert counts == {"numbers": 2} and counts.failures == {"numbers": 1}


def test_a_generator_cancelled_between_its_steps_counts_as_failed(ip):
    """With no wait in its steps, Ray's cancel lands while Ray reports a step, outside the method."""
    ns = define(ip, "", """
class Counter:
    async def upward(self):
        step = 0
        while True:
            yield step
            step += 1
""")
    handle = ns["Counter"].remote()
    for trial in range(1, 4):
        steps = handle.upward.remote()
        for _ in range(100):
            ray.get(next(steps))
        ray.cancel(steps)
        wait_for(lambda trial=trial: ray_magics.calls(handle).failures == {"upward": trial}, timeout=5,
                 what=f"cancelled call {trial} counted as failed")
    assert ray_magics.calls(handle) == {"upward": 3}


def test_tracking_works_for_actors_made_inside_other_actors(ip):
    """The tutorials' supervisor creates its workers, passes handles out, and so on."""
    ns = define(ip, "", """
import ray
class Worker:
    def work(self):
        return "done"
class Supervisor:
    def __init__(self):
        self.workers = [Worker.remote() for _ in range(3)]
    def run(self, times):
        return ray.get([w.work.remote() for w in self.workers for _ in range(times)])
    def handles(self):
        return self.workers
    def worker_calls(self):
        import ray_magics
        return [dict(ray_magics.calls(w)) for w in self.workers]
""")
    supervisor = ns["Supervisor"].remote()
    assert ray.get(supervisor.run.remote(4)) == ["done"] * 12
    workers = ray.get(supervisor.handles.remote())
    assert [dict(ray_magics.calls(w)) for w in workers] == [{"work": 4}] * 3
    assert ray.get(supervisor.worker_calls.remote()) == [{"work": 4}] * 3
    assert ray_magics.calls(supervisor) == {"handles": 1, "run": 1, "worker_calls": 1}


def test_calls_refuses_what_is_not_an_actor_handle(ip):
    with pytest.raises(TypeError, match="actor handle"):
        ray_magics.calls("not a handle")


class TwoGroups:
    def __init__(self):
        self.busy = False

    @ray.method(concurrency_group="io")
    def work(self):
        self.busy = True
        time.sleep(1)
        self.busy = False

    @ray.method(concurrency_group="io")
    def is_busy(self):
        return self.busy


def test_the_users_concurrency_groups_work_beside_the_actors_own(ip):
    handle = ray_magics.actor(TwoGroups, concurrency_groups={"io": 2}).remote()
    ray.get(handle.__ray_ready__.remote())
    working = handle.work.remote()
    wait_for(lambda: ray.get(handle.is_busy.remote()), timeout=0.9, what="a second `io` call while `work` runs")
    assert ray_magics.calls(handle)["work"] == 1  # read in the actor's own group while `io` is busy
    ray.get(working)
    assert ray_magics.calls(handle)["work"] == 1


def test_the_actors_own_group_name_is_refused_for_the_users(ip):
    refusal = "the concurrency group 'ray_magics' is ray_magics's own; name yours otherwise"
    with pytest.raises(ValueError, match=refusal):
        ray_magics.actor(TwoGroups, concurrency_groups={"ray_magics": 2})
