"""What tracked actors print, in a real ipykernel: in the cell that made the call, tagged as Ray
tags it, within a second, even after that cell ended, never in a later cell; capped; as text."""

import io
import re
import time

import pytest

from ray_magics.cells.line_pieces import LinePieces, LongLines
from ray_magics.cells.prints import PrintRouting
from ray_magics.classes.tagged_output import LONGEST_LINE, PAGE, TaggedLine, TaggedOutput, TaggingStream, untag

from .kernel_driver import kernel_with

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
    """(actor, number, task, stream, text) of each line written under a tagging stream, its parts joined."""
    long_lines = LongLines()
    return [(tagged.actor, tagged.number, tagged.task, tagged.stream, tagged.text)
            for part in map(untag, real.getvalue().splitlines()) if part
            for tagged in long_lines.join(part, None)]


def written(*lines: str, actor: str = "a1") -> str:
    """What a tracked actor's process writes to its log file for `lines`, in turn on stdout and stderr."""
    real_out = io.StringIO()
    output = TaggedOutput(real_out, io.StringIO(), actor, lambda: False)
    for number, line in enumerate(lines):
        TaggingStream(output, "oe"[number % 2]).write(line + "\n")
    return real_out.getvalue()


def published(data: bytes, prefix: str = "") -> list[str]:
    """A piece of a log file as Ray's log monitor publishes it: lines decoded (invalid UTF-8 replaced),
    without their newlines, the empty end dropped; through Ray Client, each behind Ray's prefix."""
    lines = data.decode("utf-8", "replace").split("\n")
    if lines[-1] == "":
        lines.pop()
    return [prefix + line for line in lines]


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


def test_a_long_line_is_cut_saying_how_much_sent_in_parts_a_page_long_and_rays_own_lines_pass_untagged():
    stdout, stderr, output, real_out, real_err = tagging()
    for _ in range(3):
        stdout.write("é" * LONGEST_LINE)
    stdout.write("\n:actor_name:Talker\n")
    stderr.write(":task_name:Talker.say\n")
    lines = real_out.getvalue().splitlines(keepends=True)
    assert sent(real_out) == [("a1", 6, "", "stdout", "é" * LONGEST_LINE + f" … ({2 * LONGEST_LINE} more characters)")]
    assert len(lines) == 7 and max(len(line.encode()) for line in lines) <= PAGE
    assert lines[-1] == ":actor_name:Talker\n"
    assert real_err.getvalue() == ":task_name:Talker.say\n"
    assert output.lines == 6


def test_bytes_become_text_with_replacement_characters_even_split_mid_character():
    stdout, _, output, real_out, _ = tagging()
    stdout.buffer.write(b"caf\xc3")
    stdout.buffer.write(b"\xa9 \xff\n")
    assert sent(real_out) == [("a1", 1, "", "stdout", "café \ufffd")]


def test_a_line_through_ray_client_keeps_what_ray_put_before_its_mark():
    prefix = "\x1b[36m(Talker pid=7)\x1b[0m "
    [tagged] = LinePieces().whole(-1, [prefix + written("hi").rstrip("\n")], None)
    assert tagged == TaggedLine("a1", tagged.incarnation, 1, "", "stdout", prefix, "hi")
    assert LinePieces().whole(-1, ["(Talker pid=7) plain"], None) == ["(Talker pid=7) plain"]


def test_a_line_that_arrives_twice_shows_once_and_a_restarted_actor_starts_its_numbers_anew(ip, capsys):
    routing = PrintRouting(ip, ip.magics_manager.registry["RayMagics"])  # in terminal IPython: printed as they come
    routing.cell_starts(None)
    first = published(written("one", "two").encode())
    assert routing.claim(first, "(T pid=1)", 1) == []
    assert routing.claim([*first, "untagged"], "(T pid=1)", 1) == ["untagged"]  # two nodes sharing their log files
    assert routing.claim(published(written("again").encode()), "(T pid=2)", 2) == []  # the actor restarted
    shown = capsys.readouterr()
    assert shown.out == "(T pid=1, cell unknown) one\n(T pid=2, cell unknown) again\n"
    assert shown.err == "(T pid=1, cell unknown) two\n"


FILE = written("first line", "café au lait", "x" * 5000, "last").encode()  # the long line goes in two parts
SHOWN = [("stdout", "first line"), ("stderr", "café au lait"), ("stdout", "x" * 5000), ("stderr", "last")]
CUTS = [cut for cut in range(1, len(FILE)) if FILE[cut - 2 : cut + 2] != b"xxxx" or cut % 97 == 0]  # every byte but
# inside the long line's text, where a few cuts stand for all
# How the log monitors of one or two nodes may publish a file cut at `cut`, in batches (Ray's prefix in front)
HANDED_OVER = {
    "in one batch": lambda head, rest, prefix: [published(head, prefix) + published(rest, prefix)],
    "in two batches": lambda head, rest, prefix: [published(head, prefix), published(rest, prefix)],
    "twice, cut alike": lambda head, rest, prefix: [published(head, prefix), published(head, prefix),
                                                   published(rest, prefix), published(rest, prefix)],
    "twice, once whole": lambda head, rest, prefix: [published(head, prefix), published(head + rest, prefix),
                                                    published(rest, prefix)],
}
THROUGH = {"the driver": ("(T pid=1)", ("ip", 1, False), ""), "Ray Client": (None, -1, "\x1b[36m(T pid=1)\x1b[0m ")}


def shown_lines(capsys) -> list[tuple[str, str]]:
    """(stream, text) of the lines a terminal routing printed, in order of stream, each checked to
    carry its tag and no byte of a mark."""
    shown = capsys.readouterr()
    lines = []
    for stream in ("out", "err"):
        for line in getattr(shown, stream).splitlines():
            assert line.startswith("(T pid=1, cell unknown) ") and "\x1b" not in line and "\x07" not in line, line
            lines.append(("std" + stream, line.removeprefix("(T pid=1, cell unknown) ")))
    return lines


def by_stream(lines):
    return sorted(lines, key=lambda line: line[0] == "stderr")


def anew(routing) -> None:
    """The routing as if no line had come yet to its cell (one that shows at most 1000)."""
    routing.newest.clear()
    routing.cell.shown = 0


@pytest.mark.parametrize("through", THROUGH)
@pytest.mark.parametrize("how", HANDED_OVER)
def test_a_line_cut_at_any_byte_shows_whole_once_however_the_pieces_come(ip, capsys, how, through):
    """Ray's log monitor reads a worker's file up to its end, which may fall at any byte: inside a
    mark, the text or a character; the rest follows in the same batch or a later one, and two nodes
    of one machine publish the file twice, cut alike or not at all."""
    ray_tag, source, prefix = THROUGH[through]
    routing = PrintRouting(ip, ip.magics_manager.registry["RayMagics"])
    routing.cell_starts(None)
    for cut in CUTS:
        anew(routing)
        for batch in HANDED_OVER[how](FILE[:cut], FILE[cut:], prefix):
            assert routing.claim(batch, ray_tag, source) == [], cut
        shown = shown_lines(capsys)
        if b"\xc3" in FILE[cut - 1 : cut]:  # cut inside the 'é': Ray replaced each half
            shown = [(stream, text.replace("\ufffd\ufffd", "é")) for stream, text in shown]
        assert shown == by_stream(SHOWN), (cut, shown)
        assert routing.pieces.stale(0) == [] or how == "twice, once whole", cut
    routing.pieces = LinePieces()


@pytest.mark.parametrize("through", THROUGH)
def test_a_line_whose_piece_ray_lost_shows_as_far_as_it_came_and_no_piece_of_a_mark(ip, capsys, through):
    """Under a flood Ray may drop a batch: the rest of a line, or its first piece, never comes."""
    ray_tag, source, prefix = THROUGH[through]
    routing = PrintRouting(ip, ip.magics_manager.registry["RayMagics"])
    routing.cell_starts(None)
    for cut in CUTS:
        for first_only in (True, False):  # the rest lost, or the first piece
            anew(routing)
            assert routing.claim(published(FILE[:cut] if first_only else FILE[cut:], prefix), ray_tag, source) == []
            routing.show_stale_pieces(older_than=0)
            for stream, text in shown_lines(capsys):  # each line whole, or (the rest lost) as far as it came
                assert any(text == line or first_only and line.startswith(text.removesuffix("\ufffd"))
                           for line_stream, line in SHOWN if line_stream == stream), (cut, text)


def test_a_first_piece_whose_rest_never_comes_shows_at_the_cells_end_as_far_as_it_came(ip, capsys):
    routing = PrintRouting(ip, ip.magics_manager.registry["RayMagics"])
    routing.cell_starts(None)
    data = written("whole", "cut here").encode()
    cut = data.index(b"cut h") + 5
    assert routing.claim(published(data[:cut]), "(T pid=1)", 1) == []
    assert capsys.readouterr().out == "(T pid=1, cell unknown) whole\n"
    routing.show_stale_pieces(older_than=0)
    assert capsys.readouterr().err == "(T pid=1, cell unknown) cut h\n"
    assert routing.pieces.stale(0) == []
    ip.run_line_magic("config", "RayMagics.prints_in_cells = False")
    try:  # left to Ray: printed as Ray prints a line
        routing.newest.clear()
        assert routing.claim(published(data[:cut]), "(T pid=3)", 3) == ["whole"]
        routing.show_stale_pieces(older_than=0)
        assert capsys.readouterr().out == "(T pid=3) cut h\n"
    finally:
        ip.run_line_magic("config", "RayMagics.prints_in_cells = True")


def test_in_a_terminal_the_count_of_the_lines_left_out_prints_once_when_the_cell_ends(ip, capsys):
    routing = PrintRouting(ip, ip.magics_manager.registry["RayMagics"])
    routing.cell_starts(None)
    ip.run_line_magic("config", "RayMagics.max_print_lines = 50")
    try:
        for _ in range(3):
            assert routing.claim(published(written(*(f"line {n}" for n in range(100))).encode()), "(T pid=1)", 1) == []
        shown = capsys.readouterr()
        assert len(shown.out.splitlines()) + len(shown.err.splitlines()) == 50
        routing.cell_ends(None)
        assert capsys.readouterr().err == "… 250 more lines\n"
        assert routing.claim(published(written("late one", "late two").encode()), "(T pid=1)", 1) == []
        assert capsys.readouterr().err == ""
        routing.cell_starts(None)  # the lines left out after the cell ended: said when the next cell starts
        assert capsys.readouterr().err == "… 2 more lines\n"
    finally:
        ip.run_line_magic("config", "RayMagics.max_print_lines = 1000")


@pytest.fixture(scope="module")
def kernel():
    """A real ipykernel with the extension loaded and the talking actors defined."""
    with kernel_with(
        "%load_ext ray_magics\n%config RayMagics.num_cpus = 2\nimport ray, ray_magics",
        TALKERS,
        "talker = Talker.remote()\nray.get(talker.say.remote('ready'))",
    ) as started:
        yield started


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


def test_a_flood_is_capped_with_one_count_of_the_lines_left_out_and_the_kernel_stays_quick(kernel):
    kernel.check("%config RayMagics.max_print_lines = 50")
    try:
        result = kernel.check("ray.get(talker.lines.remote(5000))", timeout=60)
        assert untagged(result.stdout) == [f"line {n}" for n in range(50)]
        assert result.stderr == ""
        assert len(result.displays) == 1 and [*result.displays, *result.updates][-1] == "… 4950 more lines"
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
