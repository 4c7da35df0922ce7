"""Waiting explained, in a real ipykernel on an embedded Ray of 2 CPUs: a cell that waits on an
actor which cannot be placed says why within 2 s, in one line replaced once the actor is placed;
a quick placement shows nothing; `RayMagics.explain_waits = False` turns it off."""

import re
import time

import pytest

from .kernel_driver import Kernel

ACTORS = """%%actor --num-cpus 1
class W:
    def ping(self):
        return 1

class G:
    def ping(self):
        return 1
"""
RERUN = "ws = [W.remote() for _ in range(2)]\nprint(ray.get([w.ping.remote() for w in ws]))\nws"
SHOWN_WITHIN = 2.0  # seconds from the cell's start to its line
STOP_WITHIN = 1.0
WAIT = r"[0-9a-f]{8}"


@pytest.fixture(scope="module")
def kernel():
    started = Kernel()
    started.check("%load_ext ray_magics\n%ray_init --num-cpus 2\nimport threading, time, ray")
    started.check(ACTORS)
    started.check("G = G.options(num_gpus=1)")
    yield started
    started.close()


def lines(result) -> list[str]:
    """The lines of waiting explained among what a cell displayed, and when each came (seconds after its start)."""
    return [(text, after) for text, after in zip(result.displays, result.shown_after, strict=True)
            if re.match(rf"\w+ \({WAIT}\)", text)]


@pytest.mark.latency
def test_a_rerun_that_waits_says_within_2_s_who_holds_the_cpus_and_ctrl_c_stops_it_at_once(kernel):
    first = kernel.check(RERUN)
    assert first.stdout == "[1, 1]\n" and lines(first) == []  # placed at once: nothing said
    request = kernel.submit(RERUN)
    time.sleep(SHOWN_WITHIN + 0.5)  # (Ctrl-C once its line had time to come)
    pressed = time.monotonic()
    kernel.interrupt()
    second = kernel.collect(request)
    assert time.monotonic() - pressed < STOP_WITHIN
    assert second.error[0] == "KeyboardInterrupt"
    [(line, after)] = lines(second)
    assert re.fullmatch(
        rf"W \({WAIT}\) and 1 more wait for resources: each needs CPU 1; free CPU 0 of 2; "
        rf"held by 2 W actors \(created in In \[{first.count}\]\) — %actors lists them", line,
    ), line
    assert after <= SHOWN_WITHIN
    assert kernel.check("1 + 1").text == "2"  # nothing in a later cell
    assert kernel.after_end(request, 1.0).displays == [] and second.updates == []  # nor in its own, once stopped
    kernel.check(f"for w in ws + Out[{first.count}]:\n    ray.kill(w)")


def test_the_line_turns_into_how_long_placement_took_and_a_wait_under_2_s_shows_nothing(kernel):
    kernel.check("hold = [W.remote() for _ in range(2)]\nray.get([w.ping.remote() for w in hold])")
    quick = kernel.check("threading.Timer(0.3, ray.kill, [hold[0]]).start()\n"
                         "quick = W.remote()\nray.get(quick.ping.remote())")
    assert lines(quick) == []
    request = kernel.submit("threading.Timer(3, ray.kill, [hold[1]]).start()\n"
                            "slow = W.remote()\nray.get(slow.ping.remote())")
    slow = kernel.collect(request)
    updates = slow.updates + kernel.after_end(request, 1.0).updates
    [(line, after)] = lines(slow)
    assert re.fullmatch(
        rf"W \(({WAIT})\) waits for resources: needs CPU 1; free CPU 0 of 2; "
        rf"held by 2 W actors \(created in In \[{quick.count - 1}\], In \[{quick.count}\]\) — %actors lists them",
        line,
    ), line
    assert after <= SHOWN_WITHIN
    placed = re.fullmatch(rf"W \({WAIT}\) placed after (\d+\.\d) s", updates[-1])
    assert placed and 3.0 <= float(placed.group(1)) < 10, updates
    kernel.check("ray.kill(quick)\nray.kill(slow)")


def test_a_demand_no_node_can_meet_says_so_in_its_cell_and_in_a_wait_magics(kernel):
    created = kernel.check("g = G.remote()\ntime.sleep(2.5)")
    [(line, _)] = lines(created)
    assert re.fullmatch(rf"G \({WAIT}\) cannot start: no node has GPU 1", line), line
    waited = kernel.run("%actor_progress g --method ping --wait --timeout 2.5")
    assert [text for text, _ in lines(waited)] == [line]
    kernel.check("ray.kill(g)")


def test_explain_waits_off_says_nothing_and_starts_no_thread(kernel):
    kernel.check("%config RayMagics.explain_waits = False")
    try:
        result = kernel.check("g = G.remote()\ntime.sleep(2.5)\n"
                              "print(sorted(t.name for t in threading.enumerate() if t.name.startswith('ray_magics')))")
        assert lines(result) == []
        assert "ray_magics-waits" not in result.stdout
    finally:
        kernel.check("%config RayMagics.explain_waits = True\nray.kill(g)")
