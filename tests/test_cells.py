"""What a cell that calls actors sees, in a real ipykernel: Stop cancelling the cell's calls,
tracebacks with the cells' lines."""

import re
import time

import pytest

from ray_magics.cells.tracebacks import OWN_FILES, remote_lines

from .conftest import wait_for
from .kernel_driver import kernel_with

pytestmark = pytest.mark.latency

ANSI = re.compile(r"\x1b\[[0-9;]*m")
BOOM = """%%actor
class Boom:
    def boom(self, x):
        y = x + 1
        raise ValueError(f"bad {y}")
"""

SYNC_NOTE = " (a sync actor finishes the call it is running: Ray cannot interrupt it)"
# Of the calls pending at Stop, those that still run: the one running, and one that the actor
# may start as it ends, before the cancel reaches it (Ray's cancelling is asynchronous).
RUN_DESPITE_STOP = 2
NAPPERS = """%%actor
import asyncio, time
class Napper:
    def nap(self, seconds):
        time.sleep(seconds)
class AsyncNapper:
    async def nap(self, seconds):
        await asyncio.sleep(seconds)
    async def naps(self, count, seconds):
        for step in range(count):
            await asyncio.sleep(seconds)
            yield step
"""


@pytest.fixture(scope="module")
def kernel():
    """A real ipykernel with the extension loaded, a sync and an async napping actor."""
    with kernel_with(
        "%load_ext ray_magics\n%config RayMagics.num_cpus = 1\nimport os, time, ray, ray_magics",
        NAPPERS,
        "sync, asynchronous = Napper.remote(), AsyncNapper.remote()\n"
        "ray.get([sync.nap.remote(0), asynchronous.nap.remote(0)])",
    ) as started:
        yield started


def served(kernel, actor: str, method: str = "nap") -> tuple[int, int]:
    """Calls and failures of the actor's `method`, read in its own concurrency group (never behind its calls)."""
    return kernel.value(f"(ray_magics.calls({actor})[{method!r}], ray_magics.calls({actor}).failures[{method!r}])")


STARTED = {"started": "calls submitted"}  # a line the cell prints once its calls are made: Stop comes after


def submitted(calls: str) -> str:
    """A cell that makes `calls`, says so, and waits for them."""
    return f"calls = {calls}\nprint({STARTED['started']!r}, flush=True)\nray.get(calls)"


def cancelled_count(stdout: str, note: str) -> int:
    match = re.fullmatch(rf"cancelled (\d+) pending actor calls?{re.escape(note)}\n", stdout)
    assert match, stdout
    return int(match.group(1))


def test_stop_cancels_a_sync_actors_queued_calls_at_once_and_lets_the_running_one_finish(kernel):
    before, _ = served(kernel, "sync")
    result, after_stop = kernel.interrupt_after(submitted("[sync.nap.remote(0.2) for _ in range(40)]"), 1.0, **STARTED)
    assert after_stop < 1
    assert result.error[0] == "KeyboardInterrupt"
    shown = ANSI.sub("", "\n".join(result.traceback))
    assert "----> 3 ray.get(calls)" in shown  # the cell's line that waited
    assert "File " not in shown and "ray" not in shown.replace("ray.get", "")  # and not one of Ray's frames
    pending = cancelled_count(result.stdout, SYNC_NOTE)
    assert 20 <= pending < 40
    started = time.monotonic()
    counts = served(kernel, "sync")
    assert time.monotonic() - started < 0.5  # nothing queued is left to wait behind
    time.sleep(0.5)  # the running call, if any, finishes; a queued call would have started
    finished = served(kernel, "sync")[0] - before
    assert 40 - pending <= finished <= 40 - pending + RUN_DESPITE_STOP
    assert 40 - pending <= counts[0] - before <= finished
    time.sleep(0.5)
    assert served(kernel, "sync")[0] - before == finished  # the queued calls never ran


def test_stop_after_thousands_of_finished_calls_cancels_exactly_the_pending_ones(kernel):
    """The cell's finished calls are let go a thousand at a time; those pending are all still cancelled."""
    before, _ = served(kernel, "sync")
    result, _ = kernel.interrupt_after("ray.get([sync.nap.remote(0) for _ in range(2500)])\n"
                                       + submitted("[sync.nap.remote(0.2) for _ in range(40)]"), 1.0, **STARTED)
    pending = cancelled_count(result.stdout, SYNC_NOTE)
    time.sleep(0.5)
    finished = served(kernel, "sync")[0] - before
    assert 2500 + 40 - pending <= finished <= 2500 + 40 - pending + RUN_DESPITE_STOP
    assert pending >= 10


def test_stop_cancels_an_async_actors_running_calls(kernel):
    _, failed_before = served(kernel, "asynchronous")
    result, after_stop = kernel.interrupt_after(submitted("[asynchronous.nap.remote(30) for _ in range(3)]"), 0.5,
                                                **STARTED)
    assert after_stop < 1
    assert result.error[0] == "KeyboardInterrupt"
    assert result.stdout == "cancelled 3 pending actor calls\n"
    wait_for(lambda: served(kernel, "asynchronous")[1] - failed_before == 3, timeout=5,
             what="the three running calls ended by cancellation")


@pytest.mark.parametrize("into_the_wait", [0.3, 0.6, 0.9])
def test_stop_ends_a_blocking_ray_get_within_a_tenth_of_a_second_not_rays_second(kernel, into_the_wait):
    _, failed_before = served(kernel, "asynchronous")
    code = ("try:\n    ray.get(asynchronous.nap.remote(30))\n"
            "except KeyboardInterrupt:\n    caught = time.monotonic()\n    raise")
    request = kernel.submit(code)
    time.sleep(1 + into_the_wait)  # past the cell's start, at a different point of Ray's checking second
    pressed = time.monotonic()  # (one clock for every process of the machine)
    kernel.interrupt()
    assert kernel.collect(request).error[0] == "KeyboardInterrupt"
    assert kernel.value("caught") - pressed < 0.3
    assert kernel.value("'RAY_get_check_signal_interval_milliseconds' in os.environ") is False  # kept to Ray
    wait_for(lambda: served(kernel, "asynchronous")[1] == failed_before + 1, timeout=5,
             what="the call ended by cancellation (the next test starts from a quiet actor)")


def test_stop_cancels_a_streaming_generators_call(kernel):
    cell = f"steps = asynchronous.naps.remote(100, 0.1)\nprint({STARTED['started']!r}, flush=True)\n"
    result, _ = kernel.interrupt_after(cell + "for step in steps:\n    ray.get(step)", 0.5, **STARTED)
    assert result.error[0] == "KeyboardInterrupt"
    assert result.stdout == "cancelled 1 pending actor call\n"
    wait_for(lambda: served(kernel, "asynchronous", "naps") == (1, 1), timeout=5,
             what="the one call, ended part way by cancellation")


def test_stop_leaves_the_calls_of_earlier_cells_alone(kernel):
    kernel.check("earlier = [sync.nap.remote(0.1) for _ in range(5)]")
    result, _ = kernel.interrupt_after(submitted("[sync.nap.remote(0.1) for _ in range(20)]"), 0.2, **STARTED)
    assert result.error[0] == "KeyboardInterrupt"
    assert cancelled_count(result.stdout, SYNC_NOTE) <= 20
    assert kernel.check("print(len(ray.get(earlier)))").stdout == "5\n"  # not one was cancelled


def test_a_cell_without_pending_calls_says_nothing_on_stop(kernel):
    kernel.check("ray.get(sync.nap.remote(0))")
    result, _ = kernel.interrupt_after("ray.get(sync.nap.remote(0))\ntime.sleep(30)", 0.5)
    assert result.error[0] == "KeyboardInterrupt"
    assert result.stdout == ""


def test_the_setting_turns_it_off(kernel):
    kernel.check("%config RayMagics.cancel_on_interrupt = False")
    try:
        before, _ = served(kernel, "sync")
        result, _ = kernel.interrupt_after(submitted("[sync.nap.remote(0.1) for _ in range(10)]"), 0.3, **STARTED)
        assert result.error[0] == "KeyboardInterrupt"
        assert result.stdout == ""
        wait_for(lambda: served(kernel, "sync")[0] - before == 10, timeout=5, what="all ten calls to run")
    finally:
        kernel.check("%config RayMagics.cancel_on_interrupt = True")


def test_an_actors_error_shows_the_cells_lines_as_a_local_one_does(kernel):
    cell = kernel.value("get_ipython().execution_count") + 1
    kernel.check(BOOM)
    result = kernel.run("boom = Boom.remote()\nray.get(boom.boom.remote(1))")
    assert result.error[0] == "RayTaskError(ValueError)"
    shown = ANSI.sub("", "\n".join(result.traceback))
    remote = shown[shown.index("ray::Boom.boom()"):]
    assert f"\nCell In[{cell}], line 4, in boom\n    raise ValueError(f\"bad {{y}}\")\nValueError: bad 2" in remote
    assert "ray_magics" not in remote and "counted" not in remote
    assert not [line for line in remote.splitlines() if set(line.strip()) <= {"^", "~"}]


def test_the_error_stays_the_users_type_and_its_text_has_the_source_line(kernel):
    caught = kernel.check(
        "try:\n    ray.get(boom.boom.remote(2))\nexcept ValueError as error:\n    caught = error\n"
        "print(type(caught).__name__, isinstance(caught, ray.exceptions.RayTaskError))"
    )
    assert caught.stdout == "RayTaskError(ValueError) True\n"
    text = kernel.value("str(caught)")
    assert '    raise ValueError(f"bad {y}")\nValueError: bad 3' in text


def test_remote_lines_name_cells_hide_own_frames_and_drop_column_markers():
    text = "\n".join([
        "ray::Boom.boom() (pid=1, ip=127.0.0.1)",
        "           ^^^^^^^^^^^^",
        f'  File "{OWN_FILES}/classes/counting.py", line 209, in counted',
        "    return method(self, *args, **kwargs)",
        "           ^^^^^^^^^^^^^^^^",
        '  File "/tmp/ipykernel_1/123.py", line 4, in boom',
        "    raise ValueError(x)",
        "    ~~~~~^^^",
        '  File "/opt/lib/helper.py", line 9, in helper',
        "    return 1 / 0",
        "ValueError: bad",
        "  with an indented second line",
    ])
    cells = {"/tmp/ipykernel_1/123.py": ("Cell", "In[5]")}
    assert remote_lines(text, cells.get) == [
        "ray::Boom.boom() (pid=1, ip=127.0.0.1)",
        "Cell In[5], line 4, in boom",
        "    raise ValueError(x)",
        "File /opt/lib/helper.py, line 9, in helper",
        "    return 1 / 0",
        "ValueError: bad",
        "  with an indented second line",
    ]
