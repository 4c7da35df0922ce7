"""Floods of actor output in a real ipykernel: every line whole in the cell that made the call,
none in a later cell, never a byte of ray_magics's own marks, and one count of the lines left out.

Ray's log monitor reads a worker's log file up to its end, so under a flood it cuts lines into
pieces, inside the marks as inside the text; two nodes of one machine publish each line twice,
cut in different places. The same floods run on a two-node cluster and through Ray Client in
`test_cluster.py`.
"""

import re
import time

import pytest

from .kernel_driver import Kernel, kernel_with

SPEW = """%%actor --num-cpus 0
import os, sys
class Spew:
    def pid(self):
        return os.getpid()
    def spew(self, count, both=False):
        for number in range(count):
            print(f"line {number}", file=sys.stderr if both and number % 2 else sys.stdout)
    def unbroken(self, count):
        for number in range(count):
            print(f"piece {number}", end="")
    def huge(self, count):
        for number in range(count):
            print(str(number) * 1_000_000)
"""
FLOOD = """a, b = Spew.remote(), Spew.remote()
floods = [a.spew.remote({lines}, both=True), b.unbroken.remote(100_000), b.huge.remote(3), b.spew.remote(1000)]
"""
WAIT = "ray.wait(floods, num_returns=len(floods), timeout=120, fetch_local=False)\ntime.sleep(1)"
LINE = re.compile(r"\(Spew pid=(\d+)\) (.*)")
UNBROKEN = "".join(f"piece {number}" for number in range(2000))[:10_000]


def expected_lines(lines: int, a_pid: int, b_pid: int) -> dict:
    """(pid, stream) -> the lines the flood writes there, in order."""
    return {
        (a_pid, "stdout"): [f"line {n}" for n in range(0, lines, 2)],
        (a_pid, "stderr"): [f"line {n}" for n in range(1, lines, 2)],
        (b_pid, "stdout"): [
            f"{UNBROKEN} … ({len(''.join(f'piece {n}' for n in range(100_000))) - 10_000} more characters)",
            *(f"{str(n) * 10_000} … (990000 more characters)" for n in range(3)),
            *(f"line {n}" for n in range(1000)),
        ],
    }


def shown_lines(*results) -> dict:
    """(pid, stream) -> the lines the cells' `results` show, each checked to be one of an actor's."""
    shown = {}
    for result in results:
        for stream in ("stdout", "stderr"):
            for line in getattr(result, stream).splitlines():
                found = LINE.fullmatch(line)
                assert found, f"not an actor's line: {line[:200]!r}"
                shown.setdefault((int(found.group(1)), stream), []).append(found.group(2))
    return shown


def no_marks(*results) -> None:
    """Nothing the cells showed carries a byte of a mark: an escape or a bell."""
    for result in results:
        for text in (result.stdout, result.stderr, *result.displays, *result.updates):
            assert "\x1b" not in text and "\x07" not in text, repr(text[:300])


def in_order(shown: list[str], expected: list[str]) -> bool:
    """Whether the whole lines of `shown` are `expected`'s in order, with lines left out, and each
    other line is the start of an expected one: a first piece whose rest Ray lost, shown as far as
    it came when it is let go (so after the lines that came meanwhile)."""
    known = set(expected)
    rest = iter(expected)
    in_order = all(any(line == text for line in rest) for text in shown if text in known)
    pieces = [text for text in shown if text not in known]
    return in_order and all(any(line.startswith(piece) for line in expected) for piece in pieces)


QUIET_ROUNDS = 10  # rounds of 1.5 s without a new line after which no more lines are waited for (a busy machine
# paused the two nodes' log monitors for over 6 s)


def flood_lands_in_its_cell(kernel: Kernel, lines: int, complete: bool = True) -> None:
    """Start a flood in one cell, wait for it in the next: every line whole in the first, none in
    the second or any later one. Where Ray may lose lines (not `complete`), those that come are
    whole (or, their rest lost, as far as they came) and in order. The lines are waited for as
    long as more keep coming."""
    kernel.check("%config RayMagics.max_print_lines = 1_000_000")
    try:
        request = kernel.submit(FLOOD.format(lines=lines))
        first = kernel.collect(request)
        assert first.error is None, first.error
        waiting = kernel.submit(WAIT)
        second = kernel.collect(waiting, timeout=180)
        a_pid, b_pid = kernel.value("ray.get([a.pid.remote(), b.pid.remote()])")
        expected = expected_lines(lines, a_pid, b_pid)
        shown, quiet = None, 0
        while shown != expected and quiet < QUIET_ROUNDS:  # (a loaded machine's log monitor pauses)
            late = kernel.after_end(request, 1.5)
            before, shown = shown, shown_lines(first, late)
            quiet = quiet + 1 if shown == before else 0
        third = kernel.check("1 + 1")
        no_marks(first, late, second, kernel.later[waiting], third)
        later = second.text + kernel.later[waiting].text  # (Ray may warn there that its driver falls behind)
        assert "Spew" not in later, later[:500]  # none of the actors' lines, which Ray would tag so
        assert third.text == "2"
        assert shown.keys() <= expected.keys()
        for key in expected:
            if complete:
                assert shown.get(key) == expected[key], (key, len(shown.get(key, [])), len(expected[key]))
            else:
                assert in_order(shown.get(key, []), expected[key]), key
    finally:
        kernel.check("%config RayMagics.max_print_lines = 1000")


@pytest.fixture(scope="module")
def kernel():
    with kernel_with("%load_ext ray_magics\n%config RayMagics.num_cpus = 2\nimport time, ray, ray_magics",
                     SPEW) as started:
        yield started


def test_a_flood_of_200000_lines_from_two_actors_shows_whole_in_its_cell_and_none_in_the_next(kernel):
    flood_lands_in_its_cell(kernel, 200_000)


def test_a_flood_past_the_cap_shows_one_count_in_its_cell_updated_in_place_after_the_cell_ended(kernel):
    request = kernel.submit("c = Spew.remote()\nflood = c.spew.remote(100_000)")
    first = kernel.collect(request)
    waiting = kernel.submit("ray.wait([flood], timeout=120, fetch_local=False)\ntime.sleep(1)")
    second = kernel.collect(waiting)
    deadline = time.monotonic() + 30
    while True:
        late = kernel.after_end(request, 0.5)
        counts = [*first.displays, *late.displays, *first.updates, *late.updates]
        if counts[-1:] == ["… 99000 more lines"] or time.monotonic() > deadline:
            break
    assert len(first.displays + late.displays) == 1, first.displays + late.displays  # one line, updated
    numbers = [int(count.split()[1]) for count in counts]
    assert numbers == sorted(set(numbers)) and numbers[-1] == 99_000, numbers
    assert len(numbers) < 100  # at most every quarter of a second
    assert len((first.stdout + late.stdout).splitlines()) == 1000 and first.stderr + late.stderr == ""
    assert second.text == "" and kernel.later[waiting].text == ""
