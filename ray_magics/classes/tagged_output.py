"""What a tracked actor writes to stdout and stderr, tagged with the call that wrote it
(imports the standard library alone; Ray's runtime context is read where a line is written).

Ray's log monitor carries each line a worker writes to its stdout to the driver. A tracked
actor whose class asks for it (`TAGGING_ATTRIBUTE`, set while a kernel shows prints in
cells) replaces its process's `sys.stdout` and `sys.stderr` with `TaggingStream`s: each
complete line goes to the real stdout between two marks. The mark in front names the actor, its
process (`incarnation`: a restarted actor has a new one), the line's number in that process, the
call being served (none in the actor's own threads), the stream, whether the line goes on from
the previous one and in the next one, and the length of the line's text; the end mark repeats
the number. Both marks are terminal escape sequences (a terminal shows nothing of them). The
kernel reads them (`untag`) to show the line in the cell that made the call; by the numbers it
knows when every line written has arrived, and drops a line that arrives twice. Both streams go
through stdout, so one actor's lines keep their order. A line left without its newline is sent
when the call ends; a line longer than `LONGEST_LINE` is cut there, saying how many characters
are left out.

No line sent is longer than a page of the log file (`PAGE`): a longer one goes in parts, each
with its marks, numbered one after another. What a write adds to a file becomes readable a page
at a time, so Ray's log monitor, which reads a file up to its end, cuts a line at most once: into
a first piece that starts with the mark (`starts_line`) and a rest that ends with the end mark
(`ends_line`), whichever bytes the cut falls between. The kernel joins them (`cells.line_pieces`).
Lines Ray reads itself (`ray_internals.RAY_OUTPUT_MARKS`) go to their own stream untagged.
"""

import codecs
import io
import os
import re
import sys
import threading
from dataclasses import dataclass

from ..ray_internals import RAY_OUTPUT_MARKS

TAGGING_ATTRIBUTE = "_ray_magics_tags_output"  # on a tracked class: its actor tags what it writes
LINES_WRITTEN_METHOD = "_ray_magics_lines_written"
LONGEST_LINE = 10_000  # characters of a line sent; the rest are counted

# Operating system command escape sequences: a terminal shows nothing of them.
TAG_START = "\x1b]ray_magics;"
# the mark: TAG_START actor;incarnation;number;task;[+]stream[+];length BEL (+: goes on from / in the next line)
# the end mark: TAG_START number BEL
_HEAD = r"\x1b\]ray_magics;([0-9a-f]*);([0-9a-f]*);([0-9]+);((?:[0-9a-f]{2})*);(\+?)([oe])(\+?);([0-9]+)\x07"
_HEAD_FOUND = re.compile(_HEAD)
_WHOLE = re.compile(_HEAD + r"(.*)\x1b\]ray_magics;([0-9]+)\x07\Z", re.DOTALL)
_END_FOUND = re.compile(r"\x1b\]ray_magics;([0-9]+)\x07\Z")
_END_REST = re.compile(r"(.*?)([0-9]*)\x07", re.DOTALL)
STREAMS = {"o": "stdout", "e": "stderr"}
PAGE = 4096  # bytes of a log file's page: the most a line sent takes, its marks and newline included
_PART = PAGE - 256  # bytes of a line's text one line sent carries (its marks take less than the rest)
CUT_CHARACTER = 3  # replacement characters more than written where Ray's cut falls inside a character


@dataclass(slots=True)
class TaggedLine:
    actor: str  # the actor's hex id
    incarnation: str  # its process's
    number: int  # the line's number in that process, from 1
    task: str  # the hex id of the call that wrote it, '' if none
    stream: str  # "stdout" or "stderr"
    before: str  # what Ray put in front of the mark (`(Name pid=…)` through Ray Client)
    text: str
    more: bool = False  # the line goes on in the next one (a line longer than a page)
    after: bool = False  # the line goes on from the previous one


def untag(line: str, before: str = "") -> TaggedLine | None:
    """The parts of a whole tagged line, `line` (both marks, the text between as long as the mark
    says), in front of which Ray put `before`; None for any other line."""
    found = _WHOLE.match(line)
    if found is None or found.group(10) != found.group(3):
        return None
    text = found.group(9)
    if not 0 <= len(text) - int(found.group(8)) <= CUT_CHARACTER:
        return None
    return _tagged_line(found, before, text)


def first_piece(piece: str, before: str = "") -> TaggedLine | None:
    """A tagged line as far as its first piece, `piece`, goes (its rest never came), ending there;
    None if the piece ends inside the mark, so holds none of the text."""
    head = _HEAD_FOUND.match(piece)
    if head is None:
        return None
    line = _tagged_line(head, before, piece[head.end():][: int(head.group(8))])
    line.more = False
    return line


def _tagged_line(found, before: str, text: str) -> TaggedLine:
    actor, incarnation, number, task, after, stream, more = found.groups()[:7]
    return TaggedLine(actor, incarnation, int(number), task, STREAMS[stream], before, text, more == "+", after == "+")


def starts_line(piece: str) -> bool:
    """Whether `piece` is how a tagged line starts: the mark, or a piece of its beginning (not an end
    mark alone, which starts the same)."""
    if _END_FOUND.match(piece):
        return False
    return piece.startswith(TAG_START) or (piece != "" and TAG_START.startswith(piece))


def ends_line(piece: str) -> bool:
    """Whether `piece` is how a tagged line ends: the end mark, or what a cut inside it leaves."""
    if _END_FOUND.search(piece):
        return True
    rest = _END_REST.fullmatch(piece)
    return rest is not None and (rest.group(1) == "" or (rest.group(2) != "" and TAG_START.endswith(rest.group(1))))


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
        self.context = None  # Ray's runtime context, once read (looking it up costs more than asking it)

    def current_task(self) -> str:
        """The id of the call being served ('' outside any: the actor's own threads)."""
        if not self.serving():
            return ""
        if self.context is None:
            import ray

            self.context = ray.get_runtime_context()
        return self.context.get_task_id() or ""

    def write(self, task: str, stream: str, text: str) -> None:
        with self.lock:
            key = (task, stream)
            held, cut = self.partial.pop(key, ("", 0))
            if "\n" not in text:  # more of a line: what is held grows, or, once it is cut, its count
                room = max(LONGEST_LINE - len(held), 0)
                self.partial[key] = (held + text[:room], cut + max(len(text) - room, 0))
                return
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
            if not RAY_OUTPUT_MARKS.search(line):
                out.extend(self._tagged(task, stream, line))
            elif own is self.real:
                out.append(line + "\n")
            else:
                own.write(line + "\n")
                own.flush()
        if out:
            self.real.write("".join(out))
            self.real.flush()

    def _tagged(self, task, stream, line) -> list[str]:
        """The lines sent for `line`, each with its marks and at most a page long."""
        parts = [line] if len(line) * 4 <= _PART else _parts(line)  # (a character takes 4 bytes at most)
        start, last, sent = f"{TAG_START}{self.actor};{self.incarnation};", len(parts) - 1, []
        for index, part in enumerate(parts):
            self.lines += 1
            after, more = "+" if index else "", "+" if index < last else ""
            sent.append(f"{start}{self.lines};{task};{after}{stream}{more};{len(part)}\x07{part}"
                        f"{TAG_START}{self.lines}\x07\n")
        return sent


def _parts(line: str) -> list[str]:
    """`line` in parts of at most `_PART` bytes, none cut inside a character."""
    data = line.encode("utf-8", "surrogatepass")
    if len(data) <= _PART:
        return [line]
    parts = []
    while data:
        end = min(_PART, len(data))
        while end < len(data) and data[end] & 0xC0 == 0x80:  # a continuation byte: the character starts before
            end -= 1
        parts.append(data[:end].decode("utf-8", "surrogatepass"))
        data = data[end:]
    return parts


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

