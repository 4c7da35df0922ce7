"""Waiting explained: the judgement of a wait on plain facts, then in a real ipykernel on an embedded
Ray of 2 CPUs: a cell that waits on an actor which cannot be placed says why within 2 s, in one line
replaced once the actor is placed; a quick placement shows nothing; `RayMagics.explain_waits = False`
turns it off."""

import re
import time
from collections import Counter

import pytest

from ray_magics.cells.origins import CellRun
from ray_magics.cells.wait_lines import waiting_line, who
from ray_magics.cluster.facts import NodeFacts
from ray_magics.cluster.placement import Holder, PendingActor, PlacementFacts, placement_needs, why_waiting

from .kernel_driver import kernel_with

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


def node(total: dict, available: dict) -> NodeFacts:
    return NodeFacts("n" * 56, "10.0.0.1", True, total, available)


def pending(needs: dict, leased=False, in_group=False) -> PendingActor:
    return PendingActor("a1" * 16, "W", needs, leased, in_group)


def test_what_an_actor_needs_to_be_placed_adds_the_cpu_of_rays_default():
    assert placement_needs({}, 1) == {"CPU": 1}  # `@ray.remote` with no resources: a CPU to place it
    assert placement_needs({}, 0) == {}  # num_cpus=0 given
    assert placement_needs({"CPU": 2, "GPU": 1}, 0) == {"CPU": 2, "GPU": 1}
    assert placement_needs({}, None) == {"CPU": 1}  # unknown (Ray Client): Ray's rule on what it holds
    assert placement_needs({"memory": 2**30}, None) == {"CPU": 1, "memory": 2**30}
    assert placement_needs({"accel": 1}, None) == {"accel": 1}


def test_a_wait_is_judged_from_the_nodes_and_the_holders():
    full = [node({"CPU": 2}, {})]
    holders = [Holder("b" * 32, "W", {"CPU": 1}), Holder("c" * 32, "P", {"CPU": 1})]
    facts = PlacementFacts({}, set(), holders, full)
    wait = why_waiting(pending({"CPU": 1}), facts)
    assert (wait.free, wait.total, [h.class_name for h in wait.holders], wait.others) == (
        {"CPU": 0}, {"CPU": 2}, ["W", "P"], {})
    assert why_waiting(pending({"CPU": 1}, leased=True), facts) is None  # its worker runs `__init__`
    assert why_waiting(pending({"CPU": 1}, in_group=True), facts) is None
    assert why_waiting(pending({"CPU": 1}), PlacementFacts({}, set(), [], [node({"CPU": 2}, {"CPU": 1})])) is None
    starting = PlacementFacts({}, set(), [], full)  # held, by no actor, nothing queued: its own worker starting
    assert why_waiting(pending({"CPU": 1}), starting) is None
    starting.queued = Counter({"CPU": 1})  # something waits for a CPU: tasks hold them
    assert why_waiting(pending({"CPU": 1}), starting).others == {"CPU": 2}
    two = [node({"CPU": 2}, {"CPU": 1}), node({"CPU": 2}, {"CPU": 1})]
    apart = PlacementFacts({}, set(), [], two, Counter({"CPU": 2}))
    assert why_waiting(pending({"CPU": 2}), apart).most_free == {"CPU": 1}
    assert why_waiting(pending({"CPU": 1, "GPU": 1}), facts).lacking == {"GPU": 1}


def test_the_line_names_the_holders_by_class_with_the_cells_that_created_them():
    holders = [Holder(f"{n}" * 32, name, {"CPU": 1}) for n, name in enumerate("WWWPQRS")]
    nodes = [node({"CPU": 5}, {"CPU": 1}), node({"CPU": 5}, {"CPU": 1})]
    wait = why_waiting(pending({"CPU": 2}), PlacementFacts({}, set(), holders, nodes, Counter({"CPU": 2})))
    runs = {"0" * 32: CellRun(None, "a", 12), "1" * 32: CellRun("id", "b", 3)}
    line = waiting_line(who("W", "a1" * 16, 1), 2, wait, runs.get, lambda holder: False)
    assert line == (
        "W (a1a1a1a1) and 1 more wait for resources: each needs CPU 2; free CPU 2 of 10 (at most 1 on one node); "
        "held by 3 W actors (created in In [3], In [12] and elsewhere), 1 P actor, 1 Q actor, 2 other actors, "
        "CPU 1 by tasks or placement groups — %actors lists them"
    )
    stale = waiting_line(who("W", "a1" * 16, 0), 1, wait, runs.get, lambda holder: holder.actor_id == "0" * 32)
    assert stale.endswith(
        "held by 2 W actors (created in In [3] and elsewhere), 1 W actor from an earlier run of In [12], "
        "1 P actor, 3 other actors, CPU 1 by tasks or placement groups — %actors --stale lists them, "
        "%actors --kill-stale ends them"
    ), stale


def test_in_terminal_ipython_the_line_is_printed_once_and_its_end_once(ip, capsys):
    ip.run_cell("%%actor --num-gpus 1\nclass OnGpu:\n    pass")
    capsys.readouterr()
    ip.run_cell("import threading, time, ray\ndoomed = OnGpu.remote()\n"
                "threading.Timer(3, ray.kill, [doomed]).start()\ntime.sleep(4)")
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("OnGpu (")]  # (and Ray's hints)
    assert len(lines) == 2, lines
    assert re.fullmatch(rf"OnGpu \(({WAIT})\) cannot start: no node has GPU 1", lines[0]), lines
    assert lines[1] == f"OnGpu ({lines[0][7:15]}) ended before it was placed"


@pytest.fixture(scope="module")
def kernel():
    with kernel_with(
        "%load_ext ray_magics\n%ray_init --num-cpus 2\nimport threading, time, ray", ACTORS, "G = G.options(num_gpus=1)"
    ) as started:
        assert started.run("1 / 0").error[0] == "ZeroDivisionError"  # IPython's first traceback is slow to draw
        yield started


def lines(result) -> list[str]:
    """The lines of waiting explained among what a cell displayed, and when each came (seconds after its start)."""
    return [(text, after) for text, after in zip(result.displays, result.shown_after, strict=True)
            if re.match(rf"\w+ \({WAIT}\)", text)]


@pytest.mark.latency
def test_a_rerun_that_waits_says_within_2_s_who_holds_the_cpus_and_ctrl_c_stops_it_at_once(kernel):
    first = kernel.check(RERUN)
    assert first.stdout == "[1, 1]\n" and lines(first) == []  # placed at once: nothing said
    try:
        request = kernel.submit(RERUN)
        time.sleep(SHOWN_WITHIN + 0.5)  # (Ctrl-C once its line had time to come)
        pressed = time.monotonic()
        kernel.interrupt()
        second = kernel.collect(request)
        stopped_after = time.monotonic() - pressed
        assert second.error[0] == "KeyboardInterrupt"
        [(line, after)] = lines(second)
        assert re.fullmatch(
            rf"W \({WAIT}\) and 1 more wait for resources: each needs CPU 1; free CPU 0 of 2; "
            rf"held by 2 W actors from an earlier run of In \[{first.count}\] — %actors --stale lists them, "
            r"%actors --kill-stale ends them", line,
        ), line
        assert after <= SHOWN_WITHIN
        assert stopped_after < STOP_WITHIN
        assert kernel.check("1 + 1").text == "2"  # nothing in a later cell
        assert kernel.after_end(request, 1.0).displays == [] and second.updates == []  # nor in its own, once stopped
    finally:
        kernel.check(f"for w in ws + Out[{first.count}]:\n    ray.kill(w)")


def test_a_call_to_an_actor_an_earlier_cell_left_unplaced_explains_its_wait_until_placed(kernel):
    """Also: a wait under 2 s shows nothing."""
    kernel.check("hold = [W.remote() for _ in range(2)]\nray.get([w.ping.remote() for w in hold])")
    quick = kernel.check("threading.Timer(0.3, ray.kill, [hold[0]]).start()\n"
                         "quick = W.remote()\nray.get(quick.ping.remote())")
    assert lines(quick) == []
    assert kernel.check("slow = W.remote()").text == ""  # created here, waited on below
    try:
        request = kernel.submit("threading.Timer(3, ray.kill, [hold[1]]).start()\nray.get(slow.ping.remote())")
        slow = kernel.collect(request)
        updates = slow.updates + kernel.after_end(request, 1.0).updates
        [(line, after)] = lines(slow)
        assert re.fullmatch(
            rf"W \(({WAIT})\) waits for resources: needs CPU 1; free CPU 0 of 2; held by 2 W actors "
            rf"\(created in In \[{quick.count - 1}\], In \[{quick.count}\]\) — %actors lists them",
            line,
        ), line
        assert after <= SHOWN_WITHIN
        placed = re.fullmatch(rf"W \({WAIT}\) placed after (\d+\.\d) s", updates[-1])
        assert placed and 3.0 <= float(placed.group(1)) < 10, updates
    finally:
        kernel.check("for w in [*hold, quick, slow]:\n    ray.kill(w)")


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
        assert kernel.value("get_ipython().magics_manager.registry['RayMagics'].explain_waits") is False
        result = kernel.check("g = G.remote()\ntime.sleep(2.5)\n"
                              "print(sorted(t.name for t in threading.enumerate() if t.name.startswith('ray_magics')))")
        assert lines(result) == []
        assert "ray_magics-waits" not in result.stdout
    finally:
        kernel.check("%config RayMagics.explain_waits = True\nray.kill(g)")
