"""What an actor wrote, shown again, in a real ipykernel on an embedded Ray: `%actor_logs` and
`ray_magics.logs` give its stdout and stderr in order, each line after the cell it went to (or
`no cell`), a dead actor's too; `--follow` shows new lines until Stop or the actor's end; only the
latest lines are kept; `ray_magics.kill` ends an actor in one line. Bad input is one line."""

import re
import time

import pytest

from .kernel_driver import kernel_with

TALKER = """%%actor
import sys, threading, time

class Talker:
    def __init__(self):
        print("born")

    def say(self, x):
        print("said", x)
        print("warned", x, file=sys.stderr)
        return x

    def chatter(self, every):
        def go():
            n = 0
            while True:
                n += 1
                print("tick", n)
                time.sleep(every)
        threading.Thread(target=go, daemon=True).start()

    def spew(self, n):
        for i in range(n):
            print("line", i)
"""
STOP_WITHIN = 1.0


@pytest.fixture(scope="module")
def kernel():
    with kernel_with("%load_ext ray_magics\n%ray_init --num-cpus 2\nimport ray, threading, ray_magics",
                     TALKER) as started:
        yield started


def shown(kernel, line: str) -> tuple[list[str], list[str]]:
    """The lines `line` printed to stdout and to stderr."""
    result = kernel.check(line)
    return result.stdout.splitlines(), result.stderr.splitlines()


def test_the_lines_come_in_order_with_their_cells_and_streams_also_those_that_went_to_no_cell(kernel):
    made = kernel.check("talker = Talker.remote()\nray.get(talker.say.remote(1))")
    again = kernel.check("ray.get(talker.say.remote(2))")
    kernel.check("%config RayMagics.prints_in_cells = False")
    try:
        nowhere = kernel.check("ray.get(talker.say.remote(3))")
        # the lines come after the cell: the setting stays until they came
        kernel.check("import time\nfor _ in range(300):\n    if ray_magics.logs(talker, n=1)[0].endswith('warned 3'):\n"
                     "        break\n    time.sleep(0.1)")
    finally:
        kernel.check("%config RayMagics.prints_in_cells = True")
    assert "said 3" not in nowhere.stdout  # (Ray printed it: it went to no cell)
    out, err = shown(kernel, "%actor_logs talker")
    a, b = f"In [{made.count}]", f"In [{again.count}]"
    assert out == [f"{a:7}  born", f"{a:7}  said 1", f"{b:7}  said 2", "no cell  said 3"]
    assert err == [f"{a:7}  warned 1", f"{b:7}  warned 2", "no cell  warned 3"]
    assert shown(kernel, "%actor_logs talker -n 2") == (["no cell  said 3"], ["no cell  warned 3"])
    assert kernel.value("ray_magics.logs(talker, n=1)") == ["no cell  warned 3"]
    prefix = kernel.value("talker._actor_id.hex()[:10]")
    assert shown(kernel, f"%actor_logs {prefix} -n 1") == ([], ["no cell  warned 3"])

    assert kernel.value("ray_magics.kill(talker)") == "ended 1 actor (Talker)"  # it holds no CPU once placed
    refused = kernel.run("ray_magics.kill(talker)")
    assert refused.error[0] == "InputError"
    assert re.fullmatch(r"Talker \([0-9a-f]{8}\) is already dead: .+", refused.error[1]), refused.error
    assert shown(kernel, "%actor_logs talker -n 1") == ([], ["no cell  warned 3"])  # a dead actor's lines stay


def test_only_the_latest_lines_are_kept(kernel):
    kernel.check("spewer = Talker.remote()\nray.get(spewer.spew.remote(3000))\nimport time\ntime.sleep(2)")
    kept = kernel.value("ray_magics.logs(spewer, n=10**6)")
    assert len(kept) == 1000
    assert kept[-1].endswith("  line 2999") and kept[0].endswith("  line 2000")
    kernel.check("ray.kill(spewer)")


@pytest.mark.latency
def test_follow_shows_new_lines_until_stop_which_ends_it_at_once(kernel):
    kernel.check("ticker = Talker.remote()\nray.get(ticker.chatter.remote(0.2))")
    result, after = kernel.interrupt_after("print('following')\n%actor_logs ticker -n 0 --follow", 1.5,
                                           started="following")
    ticks = [int(line.rsplit(" ", 1)[1]) for line in result.stdout.splitlines()]
    assert len(ticks) >= 3 and ticks == list(range(ticks[0], ticks[0] + len(ticks))), result.stdout
    assert result.error is None and result.stderr == ""  # Stop ends following quietly
    assert after < STOP_WITHIN
    kernel.check("ray.kill(ticker)")


def test_follow_ends_with_the_actor(kernel):
    kernel.check("ender = Talker.remote()\nray.get(ender.say.remote('first'))")
    started = time.monotonic()
    out, _ = shown(kernel, "threading.Timer(1.5, ray.kill, [ender]).start()\n%actor_logs ender --follow")
    assert time.monotonic() - started < 15
    assert out[-1].startswith(f"Talker ({kernel.value('ender._actor_id.hex()[:8]')}) ended: "), out
    assert out[-2].endswith("  said first")


def test_bad_input_is_one_line_naming_the_bad_part(kernel):
    kernel.check("x = 42")
    for line, message in [
        ("%actor_logs x", "x is not an actor handle: it is int"),
        ("%actor_logs nothing_here", "name 'nothing_here' is not defined"),
        ("%actor_logs 0000000000", "no actor has an id starting with 0000000000"),
        ("%actor_logs abc", "'abc' is not an actor id: give its handle, or 8 or more of its hex digits"),
        ("%actor_logs x -n -1", None),
    ]:
        result = kernel.run(line)
        assert result.error is None and result.stderr.count("\n") == 1, result.stderr
        assert result.stderr.startswith("UsageError: %actor_logs: ")
        if message:
            assert result.stderr == f"UsageError: %actor_logs: {message}\n"
    refused = kernel.run("ray_magics.kill('0000000000')")
    assert refused.error == ("InputError", "no actor has an id starting with 0000000000")


def test_an_ambiguous_prefix_is_refused(ip):
    from ray_magics.cluster.actor_lookup import find_actor
    from ray_magics.errors import InputError

    twins = ["ab" * 4 + "0" * 24, "ab" * 4 + "1" * 24]
    with pytest.raises(InputError, match=r"^abababab is ambiguous: 2 actors' ids start with it$"):
        find_actor("abababab", twins)
    assert find_actor("abababab1", twins) == twins[1]
