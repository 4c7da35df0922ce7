"""What tracked actors print, in a real ipykernel: in the cell that made the call, tagged as Ray
tags it, within a second, even after that cell ended, never in a later cell; capped; as text."""

import io
import re
import time

import pytest

from ray_magics.cells.prints import PrintRouting
from ray_magics.classes.tagged_output import LONGEST_LINE, TaggedOutput, TaggingStream, untag

from .kernel_driver import Kernel

TALKERS = """%%actor
import asyncio, os, sys, threading, time
import ray
class Talker:
    def __init__(self, greeting=None):
        if greeting:
            print(greeting)
    def say(self, *words, err=False):
        print(*words, file=sys.stderr if err else sys.stdout)
        return len(words)
    def lines(self, count, end="\\n"):
        for number in range(count):
            print(f"line {number}", end=end)
    def later(self, seconds, text):
        time.sleep(seconds)
        print(text)
    def in_a_thread(self, seconds, text):
        threading.Thread(target=lambda: (time.sleep(seconds), print(text))).start()
    def raw(self, data):
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    def die_after(self, text):
        print(text, flush=True)
        os._exit(1)
    def steps(self, count):
        for step in range(count):
            print(f"step {step}")
            yield step
class AsyncTalker:
    async def say(self, text, seconds=0):
        await asyncio.sleep(seconds)
        print(text)
class Relay:
    def relay(self, to, text):
        return ray.get(to.say.remote(text))
class Boss:
    def __init__(self):
        self.helper = Talker.remote()
    def ask(self, text):
        return ray.get(self.helper.say.remote(text))
"""
TAG = r"\((\w+) pid=\d+\) "
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # Ray colours the tags of the lines it prints itself


def tagging(serving=lambda: False):
    """A tracked actor's stdout and stderr over real text streams: (stdout, stderr, the streams under them)."""
    real_out, real_err = io.StringIO(), io.StringIO()
    output = TaggedOutput(real_out, real_err, "a1", serving)
    return TaggingStream(output, "o"), TaggingStream(output, "e"), output, real_out, real_err


def sent(real: io.StringIO) -> list[tuple]:
    """(actor, number, task, stream, text) of each line written under a tagging stream."""
    return [(tagged.actor, tagged.number, tagged.task, tagged.stream, tagged.text)
            for tagged in map(untag, real.getvalue().splitlines())]


def test_each_line_goes_out_whole_and_tagged_both_streams_through_stdout_in_order():
    stdout, stderr, output, real_out, real_err = tagging()
    stdout.write("one ")
    stderr.write("err\n")
    stdout.write("line\ntwo\nthr")
    assert sent(real_out) == [
        ("a1", 1, "", "stderr", "err"), ("a1", 2, "", "stdout", "one line"), ("a1", 3, "", "stdout", "two"),
    ]
    assert output.lines == 3
    output.end_pieces(None)  # what a call's end or the kernel's question sends
    assert sent(real_out)[-1] == ("a1", 4, "", "stdout", "thr")
    assert real_err.getvalue() == ""


def test_a_long_line_is_cut_saying_how_much_and_rays_own_lines_pass_untagged():
    stdout, stderr, output, real_out, real_err = tagging()
    for _ in range(3):
        stdout.write("x" * LONGEST_LINE)
    stdout.write("\n:actor_name:Talker\n")
    stderr.write(":task_name:Talker.say\n")
    lines = real_out.getvalue().splitlines()
    assert untag(lines[0]).text == "x" * LONGEST_LINE + f" … ({2 * LONGEST_LINE} more characters)"
    assert lines[1] == ":actor_name:Talker"
    assert real_err.getvalue() == ":task_name:Talker.say\n"
    assert output.lines == 1


def test_bytes_become_text_with_replacement_characters_even_split_mid_character():
    stdout, _, output, real_out, _ = tagging()
    stdout.buffer.write(b"caf\xc3")
    stdout.buffer.write(b"\xa9 \xff\n")
    assert sent(real_out) == [("a1", 1, "", "stdout", "café \ufffd")]


def test_a_line_through_ray_client_keeps_what_ray_put_before_its_tag():
    tagged = untag("\x1b[36m(Talker pid=7)\x1b[0m \x1b]ray_magics;ab;0f;12;cd;e;2\x07hi")
    assert tagged == ("ab", "0f", 12, "cd", "stderr", "\x1b[36m(Talker pid=7)\x1b[0m ", "hi")
    assert untag("(Talker pid=7) plain") is None


def test_a_line_that_arrives_twice_shows_once_and_a_restarted_actor_starts_its_numbers_anew(ip, capsys):
    routing = PrintRouting(ip, ip.magics_manager.registry["RayMagics"])  # in terminal IPython: lines print as they come
    routing.cell_starts(None)
    first = ["\x1b]ray_magics;a1;0f;1;;o;3\x07one", "\x1b]ray_magics;a1;0f;2;;e;3\x07two"]
    assert routing.claim(first, "(T pid=1)", 1) == []
    assert routing.claim([*first, "untagged"], "(T pid=1)", 1) == ["untagged"]  # two nodes sharing their log files
    assert routing.claim(["\x1b]ray_magics;a1;9c;1;;o;5\x07again"], "(T pid=2)", 2) == []  # the actor restarted
    shown = capsys.readouterr()
    assert shown.out == "(T pid=1, cell unknown) one\n(T pid=2, cell unknown) again\n"
    assert shown.err == "(T pid=1, cell unknown) two\n"


def test_a_line_that_rays_log_monitor_hands_over_in_two_pieces_shows_whole_wherever_it_was_cut(ip, capsys):
    """Ray's log monitor reads a worker's file up to its end, which may fall inside a line: the
    first piece ends one batch, the rest (maybe only the newline) starts the next."""
    stdout, _, _, real_out, _ = tagging()
    stdout.write("first line\nlast\n")
    written = real_out.getvalue()
    routing = PrintRouting(ip, ip.magics_manager.registry["RayMagics"])
    routing.cell_starts(None)
    for cut in range(1, len(written)):
        routing.newest.clear()
        batches = [written[:cut].split("\n"), written[cut:].split("\n")]
        for lines in batches:  # as Ray's log monitor publishes them: no newlines, no empty last line
            if lines and lines[-1] == "":
                lines.pop()
            assert routing.claim(lines, "(T pid=1)", ("ip", 1, False)) == []
        assert capsys.readouterr().out == "(T pid=1, cell unknown) first line\n(T pid=1, cell unknown) last\n", cut
    assert routing.pieces.stale(0) == []  # nothing held once every piece came


def test_a_first_piece_whose_rest_never_comes_shows_at_the_cells_end_as_far_as_it_came(ip, capsys):
    routing = PrintRouting(ip, ip.magics_manager.registry["RayMagics"])
    routing.cell_starts(None)
    assert routing.claim(["\x1b]ray_magics;a1;0f;1;;o;5\x07whole", "\x1b]ray_magics;a1;0f;2"], "(T pid=1)", 1) == []
    assert routing.claim(["\x1b]ray_magics;a1;0f;3;;o;9\x07cut h"], "(T pid=2)", 2) == []
    assert capsys.readouterr().out == "(T pid=1, cell unknown) whole\n"
    routing.show_stale_pieces(older_than=0)  # (the piece that ends inside its tag holds nothing of its line)
    assert capsys.readouterr().out == "(T pid=2, cell unknown) cut h\n"
    assert routing.pieces.stale(0) == []
    ip.run_line_magic("config", "RayMagics.prints_in_cells = False")
    try:  # left to Ray: printed as Ray prints a line
        assert routing.claim(["\x1b]ray_magics;a1;0f;4;;o;9\x07cut t"], "(T pid=3)", 3) == []
        routing.show_stale_pieces(older_than=0)
        assert capsys.readouterr().out == "(T pid=3) cut t\n"
    finally:
        ip.run_line_magic("config", "RayMagics.prints_in_cells = True")


@pytest.fixture(scope="module")
def kernel():
    """A real ipykernel with the extension loaded and the talking actors defined."""
    started = Kernel()
    started.check("%load_ext ray_magics\n%config RayMagics.num_cpus = 2\nimport ray, ray_magics")
    started.check(TALKERS)
    started.check("talker = Talker.remote()\nray.get(talker.say.remote('ready'))")
    yield started
    started.close()


def untagged(text: str, name: str = "Talker") -> list[str]:
    """The lines of `text`, each checked to carry the actor's tag, without it."""
    lines = text.splitlines()
    for line in lines:
        assert re.match(TAG.replace(r"(\w+)", name), line), line
    return [re.sub(TAG, "", line, count=1) for line in lines]


def test_a_calls_prints_show_in_its_cell_tagged_as_ray_tags_them_and_in_no_later_cell(kernel):
    result = kernel.check("ray.get(talker.say.remote('hello', 'world'))\n"
                          "ray.get(talker.say.remote('to stderr', err=True))")
    assert untagged(result.stdout) == ["hello world"]
    assert untagged(result.stderr) == ["to stderr"]
    assert result.displays == ["1"]
    assert kernel.check("1 + 1").text == "2"


def test_one_actors_lines_keep_their_order_and_a_line_without_newline_comes_when_the_call_ends(kernel):
    result = kernel.check("ray.get(talker.lines.remote(500))\nray.get(talker.say.remote('last'))")
    assert untagged(result.stdout) == [f"line {n}" for n in range(500)] + ["last"]
    result = kernel.check("ray.get(talker.lines.remote(3, end=' '))")
    assert untagged(result.stdout) == ["line 0 line 1 line 2 "]


def test_a_cell_of_thousands_of_calls_shows_each_calls_lines_in_it(kernel):
    """The calls are placed in their cells a thousand at a time, and the rest when a line or the cell's end asks."""
    result = kernel.check("ray.get([talker.say.remote(f'call {n}') if n % 1000 == 999 else talker.lines.remote(0)\n"
                          "         for n in range(2500)])[-1]\n"
                          "ray.get(talker.say.remote('last'))")
    assert untagged(result.stdout) == ["call 999", "call 1999", "last"]
    assert kernel.check("1 + 1").stdout == ""


def test_a_call_that_prints_after_its_cell_ended_prints_in_that_cell_within_a_second(kernel):
    request = kernel.submit("talker.later.remote(1.0, 'late line')")
    assert kernel.collect(request).stdout == ""
    started = time.monotonic()
    following = kernel.check("import time\ntime.sleep(2)")
    assert following.text == ""
    late = kernel.after_end(request, 0)
    assert untagged(late.stdout) == ["late line"]
    assert time.monotonic() - started < 2.5


def test_the_constructor_and_the_actors_own_threads_print_in_the_cell_that_created_it(kernel):
    request = kernel.submit("greeter = Talker.remote('made here')\n"
                            "ray.get(greeter.in_a_thread.remote(0.5, 'from a thread'))")
    created = kernel.collect(request)
    assert untagged(created.stdout) == ["made here"]
    assert kernel.check("time.sleep(1.5)").text == ""
    assert untagged(kernel.after_end(request, 0).stdout) == ["from a thread"]


def test_calls_from_another_actor_print_in_the_cell_that_created_the_actor_they_call(kernel):
    request = kernel.submit("listener = Talker.remote()")
    assert kernel.collect(request).text == ""
    result = kernel.check("relay = Relay.remote()\nray.get(relay.relay.remote(listener, 'relayed'))\ntime.sleep(1.5)")
    assert result.text == ""
    assert untagged(kernel.after_end(request, 0).stdout) == ["relayed"]


def test_an_actor_that_another_actor_created_prints_in_the_running_cell_marked_cell_unknown(kernel):
    result = kernel.check("boss = Boss.remote()\nray.get(boss.ask.remote('from below'))\ntime.sleep(1.5)")
    assert re.fullmatch(r"\(Talker pid=\d+, cell unknown\) from below\n", result.stdout), result.stdout


def test_async_and_generator_calls_print_in_their_cells(kernel):
    result = kernel.check("speaker = AsyncTalker.remote()\n"
                          "ray.get([speaker.say.remote(f'async {n}', 0.2 - n / 10) for n in range(3)])")
    assert sorted(untagged(result.stdout, "AsyncTalker")) == ["async 0", "async 1", "async 2"]
    result = kernel.check("list(ray.get(ref) for ref in talker.steps.remote(3))")
    assert untagged(result.stdout) == ["step 0", "step 1", "step 2"]


def test_a_flood_is_capped_with_the_count_left_out_and_the_kernel_stays_quick(kernel):
    kernel.check("%config RayMagics.max_print_lines = 50")
    try:
        result = kernel.check("ray.get(talker.lines.remote(5000))", timeout=60)
        assert untagged(result.stdout) == [f"line {n}" for n in range(50)]
        assert result.stderr == "… 4950 more lines\n"
        assert kernel.check("1 + 1").seconds < 1
        result = kernel.check("ray.get(talker.say.remote('x' * 1_000_000))")
        assert untagged(result.stdout) == ["x" * 10_000 + " … (990000 more characters)"]
    finally:
        kernel.check("%config RayMagics.max_print_lines = 1000")


def test_bytes_that_are_not_utf8_show_as_replacement_characters_and_markup_as_text(kernel):
    result = kernel.check("ray.get(talker.raw.remote(b'caf\\xe9 \\xff ok\\n'))\n"
                          "ray.get(talker.say.remote('<b>bold</b> <script>alert(1)</script>'))")
    assert untagged(result.stdout) == ["caf\ufffd \ufffd ok", "<b>bold</b> <script>alert(1)</script>"]
    assert result.displays == ["1"]  # a stream: never shown as HTML


def test_an_actor_that_dies_while_printing_shows_what_it_printed_and_its_death(kernel):
    request = kernel.submit("doomed = Talker.remote()\nray.get(doomed.die_after.remote('last words'))")
    result = kernel.collect(request)
    assert result.error[0] == "ActorDiedError"
    late = kernel.after_end(request, 1.0)
    said = [line for line in (result.stdout + late.stdout).splitlines() if "last words" in line]
    assert untagged("\n".join(said)) == ["last words"]


def shown_somewhere(kernel, text: str, *results, timeout: float = 10.0) -> list[str]:
    """The lines ending with `text` in the cells' `results` or in any cell's later output, once
    there are some (at most `timeout` s): Ray prints where ipykernel routes its thread's output."""
    deadline = time.monotonic() + timeout
    while True:
        kernel.after_end(None, 0.2)
        lines = [ANSI.sub("", line) for cell in [*results, *kernel.later.values()] for line in cell.stdout.splitlines()
                 if line.endswith(text)]
        if lines or time.monotonic() > deadline:
            return lines


def test_ray_shows_other_lines_as_it_does_and_with_the_setting_off_the_actors_too(kernel):
    kernel.check("%%actor --no-track\nclass Plain:\n    def say(self, text):\n        print(text)")
    result = kernel.check("plain = Plain.remote()\nray.get(plain.say.remote('plain line'))")
    assert [re.sub(TAG, "", line) for line in shown_somewhere(kernel, "plain line", result)] == ["plain line"]
    kernel.check("%config RayMagics.prints_in_cells = False")
    try:
        result = kernel.check("ray.get(talker.say.remote('as ray does'))")
        assert [re.sub(TAG, "", line) for line in shown_somewhere(kernel, "as ray does", result)] == ["as ray does"]
    finally:
        kernel.check("%config RayMagics.prints_in_cells = True")
