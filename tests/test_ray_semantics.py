"""The concurrency-group and asyncio cases of Ray's own actor tests, each run with `@ray.remote`
and with `ray_magics.actor`: the tracked actor's own concurrency group (where the widgets'
polls and the counts run) changes nothing that the user's methods see."""

import asyncio
import threading
import time

import pytest
import ray

import ray_magics

MAKERS = {
    "ray.remote": lambda cls, **options: ray.remote(**options)(cls) if options else ray.remote(cls),
    "ray_magics.actor": lambda cls, **options: ray_magics.actor(cls, **options),
}


@pytest.fixture(params=list(MAKERS))
def make(request, session_shell):
    """Makes an actor class as `@ray.remote` does, or as `ray_magics.actor` does; kills its actors after."""
    made = []

    def actor(cls, **options):
        handle = MAKERS[request.param](cls, **options).remote()
        made.append(handle)
        return handle

    yield actor
    for handle in made:
        ray.kill(handle)


class Groups:
    """Methods in two groups and the default one; each says which thread and event loop ran it."""

    def __init__(self):
        self.default_loop = asyncio.get_event_loop()
        self.loops = {}

    def where(self, name):
        self.loops[name] = asyncio.get_event_loop()
        return threading.get_ident()

    @ray.method(concurrency_group="io")
    async def io_async(self):
        return self.where("io_async")

    @ray.method(concurrency_group="io")
    def io_sync(self):
        return self.where("io_sync")

    @ray.method(concurrency_group="compute")
    def compute(self):
        return self.where("compute")

    def default(self):
        return asyncio.get_event_loop() is self.default_loop, threading.get_ident()

    @ray.method(concurrency_group="io")
    def same_loops(self):
        loops = self.loops
        return loops["io_async"] is loops["io_sync"], loops["io_async"] is loops["compute"]


def test_each_group_runs_its_methods_on_its_own_thread_and_loop(make):
    actor = make(Groups, concurrency_groups={"io": 2, "compute": 4})
    io_async, io_sync, compute = ray.get([actor.io_async.remote(), actor.io_sync.remote(), actor.compute.remote()])
    assert io_async == io_sync != compute
    assert ray.get(actor.same_loops.remote()) == (True, False)
    in_default_loop, default_thread = ray.get(actor.default.remote())
    assert in_default_loop and default_thread not in (io_async, compute)
    assert ray.get(actor.io_sync.options(concurrency_group="compute").remote()) == compute  # chosen per call


class Batcher:
    """Three async calls in one group that wait for each other on an event made in that group."""

    def __init__(self):
        self.batch = []
        self.full = None

    @ray.method(concurrency_group="batch")
    def make_event(self):
        self.full = asyncio.Event()

    @ray.method(concurrency_group="batch")
    async def add(self, item):
        self.batch.append(item)
        if len(self.batch) == 3:
            self.full.set()
        await self.full.wait()
        return sorted(self.batch)


def test_async_calls_in_one_group_share_its_event_loop(make):
    actor = make(Batcher, concurrency_groups={"batch": 3})
    ray.get(actor.make_event.remote())
    assert ray.get([actor.add.remote(item) for item in (3, 1, 2)], timeout=10) == [[1, 2, 3]] * 3


class Blocked:
    """An async actor whose default group (or first group) is blocked for good."""

    async def block(self):
        time.sleep(3600)

    @ray.method(concurrency_group="first")
    async def block_first(self):
        time.sleep(3600)

    @ray.method(concurrency_group="second")
    def answer(self):
        return "ok"


@pytest.mark.parametrize("blocking", ["block", "block_first"])
def test_a_blocked_group_blocks_no_other(make, blocking):
    actor = make(Blocked, concurrency_groups={"first": 1, "second": 1})
    stuck = [getattr(actor, blocking).remote() for _ in range(2)]
    ray.wait(stuck, timeout=0.5)
    assert ray.get(actor.answer.remote(), timeout=10) == "ok"


class Gathering:
    """An async actor whose calls wait (up to a second) until `count` of them are in flight at once."""

    def __init__(self):
        self.in_flight = 0
        self.most = 0

    async def meet(self, count):
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        give_up = time.monotonic() + 1
        while self.most < count and time.monotonic() < give_up:
            await asyncio.sleep(0.01)
        self.in_flight -= 1
        return self.most


@pytest.mark.parametrize("max_concurrency", [None, 3])
def test_async_calls_run_together_up_to_max_concurrency(make, max_concurrency):
    options = {} if max_concurrency is None else {"max_concurrency": max_concurrency}
    actor = make(Gathering, **options)
    most = ray.get([actor.meet.remote(4) for _ in range(4)], timeout=10)
    assert most == [4] * 4 if max_concurrency is None else most == [3] * 4
