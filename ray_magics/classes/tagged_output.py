"""What a tracked actor writes to stdout and stderr, tagged with the call that wrote it
(imports the standard library alone; Ray's runtime context is read where a line is written).

Ray's log monitor carries each line a worker writes to its stdout to the driver. A tracked
actor whose class asks for it (`TAGGING_ATTRIBUTE`, set while a kernel shows prints in
cells) replaces its process's `sys.stdout` and `sys.stderr` with `TaggingStream`s: each
complete line goes to the real stdout with a tag in front naming the actor, its process
(`incarnation`: a restarted actor has a new one), the line's number in that process, the call
being served (none in the actor's own threads), the stream and the length of the line's text
(Ray's log monitor may hand a line over in two pieces: `tagged_piece`). The kernel reads the tag
(`untag`) to show the line in the cell that made the call; by the numbers it knows when every
line written has arrived, and drops a line that arrives twice. Both streams go through
stdout, so one actor's lines keep their order. A line left without its newline is sent when the call
ends; a line longer than `LONGEST_LINE` is cut there, saying how many characters are left
out. Lines Ray reads itself (`RAY_MARKS`) go to their own stream untagged.
"""

import codecs
import io
import os
import re
import sys
import threading
from typing import NamedTuple

TAGGING_ATTRIBUTE = "_ray_magics_tags_output"  # on a tracked class: its actor tags what it writes
LINES_WRITTEN_METHOD = "_ray_magics_lines_written"
LONGEST_LINE = 10_000  # characters of a line sent; the rest are counted
# Lines Ray itself reads from a worker's output (the actor's name, progress bars): left untagged
RAY_MARKS = re.compile(r"^:(actor_name|task_name|job_id):|__ray_tqdm_magic_token__")

# An operating system command escape sequence: a terminal shows nothing of it.
TAG_START = "\x1b]ray_magics;"
_TAG = TAG_START + "{actor};{incarnation};{number};{task};{stream};{length}\x07"
_TAGGED = re.compile(r"\x1b\]ray_magics;([0-9a-f]*);([0-9a-f]*);([0-9]+);([0-9a-f]*);([oe]);([0-9]+)\x07")
STREAMS = {"o": "stdout", "e": "stderr"}


class TaggedLine(NamedTuple):
    actor: str  # the actor's hex id
    incarnation: str  # its process's
    number: int  # the line's number in that process, from 1
    task: str  # the hex id of the call that wrote it, '' if none
    stream: str  # "stdout" or "stderr"
    before: str  # what Ray put in front of the tag (`(Name pid=…)` through Ray Client)
    text: str


def untag(line: str) -> TaggedLine | None:
    """The parts of a tagged line; None if `line` is untagged."""
    found = _TAGGED.search(line)
    if found is None:
        return None
    actor, incarnation, number, task, stream, _ = found.groups()
    return TaggedLine(actor, incarnation, int(number), task, STREAMS[stream], line[: found.start()],
                      line[found.end():])


def tagged_piece(line: str) -> tuple[str, bool] | None:
    """(What comes before the tag, whether the line is whole) of a tagged line, or of its first piece
    (the tag's start, or the tag and less text than it says); None for an untagged line."""
    start = line.find(TAG_START)
    if start < 0:
        start = line.rfind("\x1b")
        return (line[:start], False) if start >= 0 and TAG_START.startswith(line[start:]) else None
    found = _TAGGED.match(line, start)
    return line[:start], found is not None and len(line) - found.end() >= int(found.group(6))


class TaggedOutput:
    """The real stdout and stderr of this process, and the lines written to stdout with a tag."""

    def __init__(self, stdout, stderr, actor: str, serving):
        self.real = stdout
        self.actor = actor
        self.incarnation = os.urandom(4).hex()
        self.serving = serving  # whether the running code serves a call of the actor
        self.lock = threading.Lock()
        self.originals = {"o": stdout, "e": stderr}
        self.partial = {}  # (task id, stream) -> (text written without its newline yet, characters cut from it)
        self.lines = 0

    def current_task(self) -> str:
        """The id of the call being served ('' outside any: the actor's own threads)."""
        if not self.serving():
            return ""
        import ray

        return ray.get_runtime_context().get_task_id() or ""

    def write(self, task: str, stream: str, text: str) -> None:
        with self.lock:
            key = (task, stream)
            held, cut = self.partial.pop(key, ("", 0))
            *lines, rest = (held + text).split("\n")
            if lines:
                lines = [_cut(lines[0], cut), *(_cut(line, 0) for line in lines[1:])]
                cut = 0
            if len(rest) > LONGEST_LINE:
                rest, cut = rest[:LONGEST_LINE], cut + len(rest) - LONGEST_LINE
            if rest or cut:
                self.partial[key] = (rest, cut)
            if lines:
                self._send(task, stream, lines)

    def end_pieces(self, task: str | None) -> None:
        """Send the lines left without their newline: the call `task`'s, or all (None)."""
        with self.lock:
            ended = [key for key in self.partial if task is None or key[0] == task]
            for key in ended:
                self._send(*key, [_cut(*self.partial.pop(key))])

    def _send(self, task, stream, lines) -> None:
        own = self.originals[stream]
        out = []
        for line in lines:
            if not RAY_MARKS.search(line):
                self.lines += 1
                tag = _TAG.format(actor=self.actor, incarnation=self.incarnation, number=self.lines, task=task,
                                  stream=stream, length=len(line))
                out.append(f"{tag}{line}\n")
            elif own is self.real:
                out.append(line + "\n")
            else:
                own.write(line + "\n")
                own.flush()
        if out:
            self.real.write("".join(out))
            self.real.flush()


def _cut(line: str, cut: int) -> str:
    """`line` cut to `LONGEST_LINE`, saying how many characters it lost (`cut` of them earlier)."""
    if len(line) > LONGEST_LINE:
        line, cut = line[:LONGEST_LINE], cut + len(line) - LONGEST_LINE
    return f"{line} … ({cut} more characters)" if cut else line


class _BytesToText(io.RawIOBase):
    """`sys.stdout.buffer` of a tagging stream: bytes become text, invalid UTF-8 replacement characters."""

    def __init__(self, stream):
        self._stream = stream
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._stream.write(self._decoder.decode(bytes(data)))
        return len(data)


class TaggingStream(io.TextIOBase):
    """`sys.stdout` or `sys.stderr` of a tracked actor's process: each line goes out tagged."""

    def __init__(self, output: TaggedOutput, stream: str):
        self._output = output
        self._stream = stream
        self.buffer = _BytesToText(self)

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._output.write(self._output.current_task(), self._stream, str(text))
        return len(text)

    def flush(self) -> None:
        self._output.real.flush()

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self._output.originals[self._stream].fileno()

    @property
    def encoding(self) -> str:
        return "utf-8"

    @property
    def errors(self) -> str:
        return "replace"


_output: TaggedOutput | None = None  # this process's, once a tracked actor started tagging
_wanted = False  # whether this process (a kernel) shows tagged lines: its tracked classes then ask for tags


def want_tags(wanted: bool) -> None:
    """Say whether tracked classes made from now on in this process tag their actors' output."""
    global _wanted
    _wanted = wanted


def tags_wanted() -> bool:
    return _wanted


def start_tagging(actor: str, serving) -> None:
    """Tag what this process (the actor `actor`'s) writes to `sys.stdout` and `sys.stderr` from now
    on; `serving()` says whether the running code serves a call."""
    global _output
    if _output is not None:
        return
    _output = TaggedOutput(sys.stdout, sys.stderr, actor, serving)
    sys.stdout = TaggingStream(_output, "o")
    sys.stderr = TaggingStream(_output, "e")


def call_ends() -> None:
    """The call being served ends: send what it wrote without a newline (cheap when nothing is held)."""
    if _output is not None and _output.partial:
        _output.end_pieces(_output.current_task())


def lines_written() -> tuple[str, int]:
    """This process's incarnation and the tagged lines it has sent so far, sending first every line still held."""
    if _output is None:
        return "", 0
    _output.end_pieces(None)
    return _output.incarnation, _output.lines

