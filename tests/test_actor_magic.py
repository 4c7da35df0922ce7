"""`%%actor` against a real Ray: options, class selection, and what users do with actors."""

import time

import pytest
import ray
from IPython.utils.capture import capture_output

import ray_magics

COUNTER = """
import os
class Counter:
    def __init__(self, start=0):
        self.value = start
    def inc(self, by=1):
        self.value += by
        return self.value
"""


def actor_cell(ip, line, cell):
    """Run an `%%actor` cell; return the lines it printed."""
    with capture_output() as out:
        ip.run_cell_magic("actor", line, cell)
    return out.stdout.splitlines()


def test_confirms_each_class_and_keeps_the_original(ip):
    lines = actor_cell(ip, "--num-cpus 1", COUNTER + "\nclass Other:\n    def ping(self):\n        return 1\n")
    assert lines == [
        "Counter → Ray actor (num_cpus=1, tracked)",
        "Other → Ray actor (num_cpus=1, tracked)",
    ]
    counter = ip.user_ns["Counter"]
    assert isinstance(counter, ray.actor.ActorClass)
    plain = ray_magics.original(counter)
    assert plain(5).inc() == 6  # the plain class, for local unit tests
    handle = counter.remote(10)
    assert ray.get([handle.inc.remote() for _ in range(3)]) == [11, 12, 13]
    assert ray.get(handle.inc.options(name="named-call").remote(by=7)) == 20


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("--num-cpus 0.5", {"num_cpus": 0.5}),
        ("--num-gpus 0", {"num_gpus": 0}),
        ("--memory 100MiB", {"memory": 100 * 2**20}),
        ("--memory 2e8", {"memory": 200_000_000}),
        ('--resources \'{"special": 1}\'', {"resources": {"special": 1}}),
        ("--max-restarts 3", {"max_restarts": 3}),
        ("--max-restarts -1", {"max_restarts": -1}),
        ("--max-task-retries 2", {"max_task_retries": 2}),
        ("--max-concurrency 8", {"max_concurrency": 8}),
        ('--runtime-env \'{"env_vars": {"A": "1"}}\'', {"runtime_env": {"env_vars": {"A": "1"}}}),
        ("--name solo --namespace ns1", {"name": "solo", "namespace": "ns1"}),
        ("--name keeper --lifetime detached", {"name": "keeper", "lifetime": "detached"}),
        ("--name shared --get-if-exists", {"name": "shared", "get_if_exists": True}),
    ],
)
def test_every_flag_becomes_the_ray_option(ip, line, expected):
    [confirmation] = actor_cell(ip, line, COUNTER)
    options = ip.user_ns["Counter"]._default_options
    for key, value in expected.items():
        assert options[key] == value or (key == "runtime_env" and options[key]["env_vars"] == value["env_vars"])
        assert f"{key}=" in confirmation


def test_resources_and_memory_reach_the_actor(ip):
    actor_cell(ip, "--num-cpus 0.5 --memory 50MiB", """
import ray
class Probe:
    def assigned(self):
        return ray.get_runtime_context().get_assigned_resources()
""")
    assigned = ray.get(ip.user_ns["Probe"].remote().assigned.remote())
    assert assigned["CPU"] == 0.5
    assert assigned["memory"] == 50 * 2**20


def test_runtime_env_reaches_the_actor(ip):
    actor_cell(ip, '--runtime-env \'{"env_vars": {"RAY_MAGICS_PROBE": "on"}}\'', """
import os
class EnvProbe:
    def read(self):
        return os.environ.get("RAY_MAGICS_PROBE")
""")
    assert ray.get(ip.user_ns["EnvProbe"].remote().read.remote(), timeout=60) == "on"


def test_named_actor_in_namespace_and_get_if_exists(ip):
    actor_cell(ip, "--name tally --namespace team --get-if-exists", COUNTER)
    first = ip.user_ns["Counter"].remote()
    again = ip.user_ns["Counter"].remote()
    found = ray.get_actor("tally", namespace="team")
    assert first._actor_id == again._actor_id == found._actor_id
    ray.kill(first)


def test_detached_actor_is_found_by_name(ip):
    actor_cell(ip, "--name lasting --lifetime detached", COUNTER)
    handle = ip.user_ns["Counter"].remote(1)
    try:
        assert ray.get(ray.get_actor("lasting").inc.remote()) == 2
    finally:
        ray.kill(handle)


def test_max_restarts_brings_a_killed_actor_back(ip):
    with_pid = COUNTER + "    def pid(self):\n        return os.getpid()\n"
    actor_cell(ip, "--max-restarts 1 --max-task-retries 1", with_pid)
    handle = ip.user_ns["Counter"].remote(5)
    assert ray.get(handle.inc.remote()) == 6
    first_pid = ray.get(handle.pid.remote())
    ray.kill(handle, no_restart=False)
    deadline = time.monotonic() + 60
    while (pid := ray.get(handle.pid.remote(), timeout=60)) == first_pid and time.monotonic() < deadline:
        time.sleep(0.1)
    assert pid != first_pid
    assert ray.get(handle.inc.remote(), timeout=60) == 6  # restarted from __init__


def test_threaded_actor_serves_calls_at_once(ip):
    actor_cell(ip, "--max-concurrency 4", "import time\nclass Sleeper:\n    def nap(self):\n        time.sleep(0.5)\n")
    handle = ip.user_ns["Sleeper"].remote()
    ray.get(handle.__ray_ready__.remote())
    start = time.monotonic()
    ray.get([handle.nap.remote() for _ in range(4)])
    assert time.monotonic() - start < 1.5


def test_only_listed_classes_become_actors(ip):
    cell = "class Helper:\n    pass\nclass Worker:\n    def go(self):\n        return 'went'\n"
    lines = actor_cell(ip, "Worker", cell)
    assert lines == ["Worker → Ray actor (tracked)"]
    assert isinstance(ip.user_ns["Helper"], type)
    assert ray.get(ip.user_ns["Worker"].remote().go.remote()) == "went"


def test_imported_referenced_and_nested_classes_are_untouched(ip):
    actor_cell(ip, "", """
from collections import OrderedDict
Alias = OrderedDict
def factory():
    class Inner:
        pass
    return Inner
if True:
    class Guarded:
        def kind(self):
            return "guarded"
""")
    assert ip.user_ns["OrderedDict"] is ip.user_ns["Alias"] and isinstance(ip.user_ns["Alias"], type)
    assert isinstance(ip.user_ns["factory"](), type)
    assert ray.get(ip.user_ns["Guarded"].remote().kind.remote()) == "guarded"


def test_subclass_of_a_plain_base_class_from_an_earlier_cell(ip):
    ip.run_cell("class ActorCls:\n    def __init__(self, name):\n        self.name = name\n"
                "    def get_name(self):\n        return self.name\n")
    actor_cell(ip, "", "class ActorClsOne(ActorCls):\n    def method(self, **kwargs):\n        return kwargs\n")
    handle = ip.user_ns["ActorClsOne"].remote("one")
    assert ray.get(handle.get_name.remote()) == "one"
    assert ray.get(handle.method.remote(timeout=1, store="delta")) == {"timeout": 1, "store": "delta"}
    assert isinstance(ip.user_ns["ActorCls"], type)


def test_handles_passed_to_tasks_and_counted(ip):
    actor_cell(ip, "", COUNTER)
    ip.run_cell("""
import ray
@ray.remote
def bump(counter, times):
    return ray.get([counter.inc.remote() for _ in range(times)])[-1]
""")
    handle = ip.user_ns["Counter"].remote()
    assert sorted(ray.get([ip.user_ns["bump"].remote(handle, 5) for _ in range(3)]))[-1] == 15
    assert ray_magics.calls(handle) == {"inc": 15}


def test_async_actor(ip):
    actor_cell(ip, "", """
import asyncio
class Pinger:
    async def ping(self, n):
        await asyncio.sleep(0.2)
        return n
""")
    handle = ip.user_ns["Pinger"].remote()
    ray.get(handle.__ray_ready__.remote())
    start = time.monotonic()
    assert ray.get([handle.ping.remote(i) for i in range(20)]) == list(range(20))
    assert time.monotonic() - start < 2  # served concurrently
    assert ray_magics.calls(handle) == {"ping": 20}


def test_generators_and_ray_method_keep_working(ip):
    actor_cell(ip, "", """
import ray
class Streams:
    def numbers(self, n):
        yield from range(n)
    async def async_numbers(self, n):
        for i in range(n):
            yield i
    @ray.method(num_returns=2)
    def pair(self):
        return "a", "b"
""")
    handle = ip.user_ns["Streams"].remote()
    assert [ray.get(ref) for ref in handle.numbers.remote(3)] == [0, 1, 2]
    assert [ray.get(ref) for ref in handle.async_numbers.remote(2)] == [0, 1]
    first, second = handle.pair.remote()
    assert ray.get([first, second]) == ["a", "b"]


def test_rerunning_the_cell_keeps_old_handles_working(ip):
    actor_cell(ip, "", COUNTER)
    old = ip.user_ns["Counter"].remote(100)
    actor_cell(ip, "", COUNTER.replace("self.value += by", "self.value -= by"))
    new = ip.user_ns["Counter"].remote(100)
    assert ray.get(old.inc.remote()) == 101
    assert ray.get(new.inc.remote()) == 99


def test_no_track(ip):
    [line] = actor_cell(ip, "--no-track", COUNTER)
    assert line == "Counter → Ray actor (untracked)"
    handle = ip.user_ns["Counter"].remote()
    assert ray.get(handle.inc.remote()) == 1
    message = "^this actor counts no calls: make its class with %%actor or @ray_magics.actor, without --no-track$"
    with pytest.raises(ValueError, match=message):
        ray_magics.calls(handle)
    plain = ray.remote(ray_magics.original(ip.user_ns["Counter"])).remote()  # made by Ray alone: the same words
    with pytest.raises(ValueError, match=message):
        ray_magics.calls(plain)


def test_python_api_as_decorator_and_call(ip):
    @ray_magics.actor(num_cpus=0.25)
    class Decorated:
        def hello(self):
            return "hi"

    plain = ray_magics.actor(ray_magics.original(Decorated), track=False)
    assert ray.get(Decorated.remote().hello.remote()) == "hi"
    assert ray.get(plain.remote().hello.remote()) == "hi"
    assert Decorated._default_options["num_cpus"] == 0.25
    with pytest.raises(TypeError):
        ray_magics.actor(lambda: None)


def test_empty_parentheses_are_refused_as_ray_refuses_them(ip):
    with pytest.raises(AssertionError) as by_ray:
        ray.remote()
    with pytest.raises(AssertionError) as by_us:
        ray_magics.actor()
    assert str(by_us.value) == str(by_ray.value)

    @ray_magics.actor(track=False)
    class Untracked:
        def hello(self):
            return "hi"

    @ray_magics.actor(track=True)
    class Tracked:
        def hello(self):
            return "hi"

    assert ray.get(Untracked.remote().hello.remote()) == "hi"
    tracked = Tracked.remote()
    assert ray.get(tracked.hello.remote()) == "hi"
    assert ray_magics.calls(tracked) == {"hello": 1}
