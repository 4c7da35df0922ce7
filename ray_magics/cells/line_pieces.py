"""Tagged lines made whole again: the pieces Ray's log monitor cuts them into, and the parts a
line longer than a page is sent in.

Ray's log monitor reads each worker's log file up to its end and publishes what it read, a batch
of lines per file. Where the end falls inside a line still being written, it publishes the line
in two pieces: the first ends a batch and the rest starts the file's next batch, or the rest
follows at once in the same batch (the file grew while it read). A tagged line is at most a page
long, so it is cut at most once: into a first piece that starts with its mark and a rest that
ends with its end mark (`classes.tagged_output`), wherever the cut falls. Two nodes of one
machine read the same files: each line comes twice, cut in the same place or not at all, the two
readers' batches interleaved. A flood can make Ray drop whole batches.

So a first piece followed by more in its batch is joined to what follows; a batch's last first
piece is held until a later batch of the same file starts with the rest that completes its line
(the end mark repeats the line's number, the mark gives its length). A newline that comes alone
after a whole line is dropped, as is a rest whose first piece never came (or a part of a long line
whose first part never came); a first piece (or part) whose rest never came is let go after a
while, as far as it came. No piece of a mark is ever shown.
"""

import time
from dataclasses import dataclass, replace

from ..classes.tagged_output import TaggedLine, ends_line, first_piece, starts_line, untag
from ..ray_internals import RAY_CLIENT_LINE_PREFIX

HELD_PER_FILE = 8  # first pieces held for one file at most: older ones are let go
NEWLINE_WITHIN = 2.0  # seconds after a batch ended with a whole line in which its newline may come alone


@dataclass
class Held:
    """A first piece waiting for its rest."""

    before: str  # what Ray put in front of it
    piece: str
    ray_tag: str | None
    since: float


class LinePieces:
    """The first pieces of tagged lines, held for each file until their rest comes."""

    def __init__(self):
        self._held: dict[tuple, list[Held]] = {}  # (source, what Ray puts before its lines) -> oldest first
        self._let_go: list[Held] = []  # held too long, or crowded out
        self._ended_whole: dict[tuple, float] = {}  # file -> when a batch of it last ended with a whole tagged line

    def whole(self, source, lines: list[str], ray_tag: str | None) -> list[TaggedLine | str]:
        """`lines`, a batch from `source`, in order: each tagged line whole (read), the pieces that
        are no line's dropped, the other lines as they came."""
        out = []
        piece, key, after_whole = None, None, False
        for index, line in enumerate(lines):
            before, text = _split(line) if ray_tag is None else ("", line)
            if (source, before) != key:
                key, piece = (source, before), None
                after_whole = index == 0 and time.monotonic() < self._ended_whole.get(key, 0.0) + NEWLINE_WITHIN
            if piece is not None:
                text = piece + text
            elif index == 0:
                text = self._completed(key, text)
            piece, tagged = None, untag(text, before)
            if tagged is not None:
                out.append(tagged)
                after_whole = True
                continue
            if starts_line(text):
                piece = text
            elif not ends_line(text) and not (text == "" and after_whole):  # (a rest alone; a whole line's newline)
                out.append(line)
            after_whole = False
        if after_whole:
            self._ended_whole[key] = time.monotonic()
        if piece is not None:
            self._hold(key, Held(key[1], piece, ray_tag, time.monotonic()))
        return out

    def _completed(self, key, text: str) -> str:
        """`text`, which starts a batch, joined to the held piece whose line it completes, if any."""
        held = self._held.get(key, [])
        for index in range(len(held) - 1, -1, -1):
            joined = held[index].piece + text
            if untag(joined) is not None:
                del held[index]
                return joined
        return text

    def _hold(self, key, held: Held) -> None:
        pieces = self._held.setdefault(key, [])
        pieces.append(held)
        if len(pieces) > HELD_PER_FILE:
            self._let_go.append(pieces.pop(0))

    def stale(self, seconds: float) -> list[tuple[TaggedLine, str | None]]:
        """(Line as far as its first piece goes, Ray's tag) of the lines whose rest has not come in
        `seconds`, let go (those whose piece ends inside the mark hold none of the text)."""
        now = time.monotonic()
        old, self._let_go = self._let_go, []
        for key, pieces in list(self._held.items()):
            old.extend(held for held in pieces if now - held.since >= seconds)
            pieces[:] = [held for held in pieces if now - held.since < seconds]
            if not pieces:
                del self._held[key]
        lines = [(first_piece(held.piece, held.before), held.ray_tag) for held in old]
        return [(line, ray_tag) for line, ray_tag in lines if line is not None]


def _split(line: str) -> tuple[str, str]:
    """(What Ray Client put in front of a line, the line as the worker wrote it)."""
    found = RAY_CLIENT_LINE_PREFIX.match(line)
    return (line[: found.end()], line[found.end():]) if found else ("", line)


class LongLines:
    """Lines longer than a page, sent in parts numbered one after another, made whole."""

    def __init__(self):
        # (actor, incarnation) -> (the line so far, Ray's tag for its lines, when its latest part came)
        self._parts: dict[tuple, tuple[TaggedLine, str | None, float]] = {}

    def join(self, part: TaggedLine, ray_tag: str | None) -> list[TaggedLine]:
        """The lines `part` completes: none while its line goes on; also, first, a line whose
        next part never came, as far as it came. A part whose line's start never came is dropped."""
        key = part.actor, part.incarnation
        done = []
        held = self._parts.pop(key, None)
        if held is not None:
            line, _, _ = held
            if part.after and line.number + 1 == part.number:
                part = replace(part, text=line.text + part.text, after=False)
            else:
                done.append(replace(line, more=False))
        if part.after:
            return done
        if part.more:
            self._parts[key] = (part, ray_tag, time.monotonic())
        else:
            done.append(part)
        return done

    def stale(self, seconds: float) -> list[tuple[TaggedLine, str | None]]:
        """(Line as far as it came, Ray's tag) of the lines whose next part has not come in `seconds`."""
        now = time.monotonic()
        old = [key for key, (_, _, since) in self._parts.items() if now - since >= seconds]
        return [(replace(line, more=False), ray_tag) for line, ray_tag, _ in map(self._parts.pop, old)]
