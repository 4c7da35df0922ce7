"""Busy actors answer the widgets: a bar on a tracked actor moves while the actor is inside a long
method, and the widgets' polls are counted apart from the user's calls."""

import time

import pytest
import ray
from IPython.utils.capture import capture_output

import ray_magics

from .conftest import wait_for

pytestmark = pytest.mark.usefixtures("no_live_views")

WORKERS = """
import asyncio, time
class Sync:
    def __init__(self):
        self.done = 0
    def work(self, steps):
        for _ in range(steps):
            time.sleep(0.05)
            self.done += 1
        return self.done
    def get_progress(self):
        return {"done": self.done, "total": 40}
class Async:
    def __init__(self):
        self.done = 0
    async def work(self, steps):
        for _ in range(steps):
            time.sleep(0.05)  # blocks the actor's event loop, as CPU-bound work does
            self.done += 1
        return self.done
    async def get_progress(self):
        return {"done": self.done, "total": 40}
"""


@pytest.fixture(scope="module")
def actor_classes(session_shell):
    """Tracked `Sync` and `Async` classes: one call at a time, and threaded (four at a time)."""
    classes = {}
    for threads in (1, 4):
        with capture_output():
            session_shell.run_cell_magic("actor", f"--max-concurrency {threads} --max-restarts 1", WORKERS)
        classes["Sync", threads] = session_shell.user_ns.pop("Sync")
        classes["Async", threads] = session_shell.user_ns.pop("Async")
    return classes


@pytest.mark.parametrize("kind,threads", [("Sync", 1), ("Sync", 4), ("Async", 1), ("Async", 4)])
def test_a_bar_moves_while_its_actor_is_inside_a_long_method(actor_classes, kind, threads):
    actor = actor_classes[kind, threads].remote()
    try:
        ray.get(actor.get_progress.remote())
        working = actor.work.remote(40)
        bar = ray_magics.progress(actor, interval=0.1)
        wait_for(lambda: 0 < bar.bar.value < 1, timeout=1.5, what="the bar to move while `work` runs")
        assert ray.wait([working], timeout=0)[1] == [working]  # still inside `work`
        assert ray.get(working) == 40
        bar.finished.wait(2)
        assert bar.bar.value == 1
        counts = ray_magics.calls(actor)
        assert counts["work"] == 1 and counts["get_progress"] == 1  # the user's calls alone
        assert counts.polls["get_progress"] >= 3
    finally:
        ray.kill(actor)


def restarted(actor) -> bool:
    """Whether a new process serves `actor` (its counts start again from none)."""
    try:
        return ray_magics.calls(actor, timeout=5)["get_progress"] == 0
    except ray.exceptions.RayActorError:
        return False


def test_polls_go_on_in_the_actors_own_group_after_a_restart(actor_classes):
    actor = actor_classes["Sync", 1].remote()
    try:
        ray.get(actor.get_progress.remote())
        ray.kill(actor, no_restart=False)
        wait_for(lambda: restarted(actor), timeout=20, what="the actor back from its restart")
        working = actor.work.remote(40)
        bar = ray_magics.progress(actor, interval=0.1)
        wait_for(lambda: 0 < bar.bar.value < 1, timeout=1.5, what="the bar to move while `work` runs")
        ray.get(working)
        bar.finished.wait(2)
        counts = ray_magics.calls(actor)
        assert counts["work"] == 1 and counts["get_progress"] == 0 and counts.polls["get_progress"] >= 3
    finally:
        ray.kill(actor)


def test_actors_shows_the_polls_apart_from_the_calls(ip, actor_classes):
    actor = actor_classes["Sync", 1].remote()
    try:
        ray.get(actor.work.remote(2))
        bar = ray_magics.progress(actor, interval=0.05)
        wait_for(lambda: ray_magics.calls(actor).polls.get("get_progress", 0) >= 2, what="two polls")
        bar.end()
        time.sleep(0.2)  # (a poll already sent is still counted)
        polls = ray_magics.calls(actor).polls["get_progress"]
        row = next(row for row in ray_magics.actors().rows if row["id"] == actor._actor_id.hex()[:8])
        assert row["calls"] == f"get_progress 0 ({polls} widget polls) · work 1"
    finally:
        ray.kill(actor)


def test_a_plain_ray_actor_is_polled_as_before():
    @ray.remote
    class Plain:
        def get_progress(self):
            return 1.0

    actor = Plain.remote()
    try:
        bar = ray_magics.progress(actor, interval=0.05)
        assert bar.finished.wait(5)
        assert bar.bar.value == 1 and bar.bar.bar_style == "success"
    finally:
        ray.kill(actor)
