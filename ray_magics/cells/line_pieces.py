"""Tagged lines that Ray's log monitor handed over in two pieces, made whole again.

Ray's log monitor reads each worker's log file up to its end and publishes the lines it read.
When the end falls inside a line still being written, the line's first piece comes last in
one batch and its rest first in a later batch from the same file: only a newline, as an empty
line, when the end fell just before it. A tagged line says how long its text is
(`classes.tagged_output.tagged_piece`), so its first piece is held until the rest comes, and
an empty line right after a whole tagged line is dropped.
"""

import time

from ..classes.tagged_output import tagged_piece


class LinePieces:
    """The last tagged line of each source's latest batch, while its rest may still come."""

    def __init__(self):
        # (source, what Ray put before the tag) -> (the first piece, None if the line was whole;
        # Ray's tag for the lines; when it came)
        self._ends: dict[tuple, tuple[str | None, str | None, float]] = {}

    def whole(self, source, lines: list[str], ray_tag: str | None) -> list[str]:
        """`lines`, a batch from `source`, with a piece held from its last batch joined to its rest,
        and without its last line if that is a first piece."""
        key = next((key for key in self._ends if key[0] == source and lines and lines[0].startswith(key[1])), None)
        if key is not None:
            piece, _, _ = self._ends.pop(key)
            rest = lines[0][len(key[1]):]
            if piece is not None:
                lines = [piece + rest, *lines[1:]]
            elif not rest.strip():  # the newline of a whole line
                lines = lines[1:]
        if lines:
            found = tagged_piece(lines[-1])
            if found is not None:
                before, is_whole = found
                self._ends[source, before] = (None if is_whole else lines[-1], ray_tag, time.monotonic())
                if not is_whole:
                    lines = lines[:-1]
        return lines

    def stale(self, seconds: float) -> list[tuple[str, str | None]]:
        """(First piece, Ray's tag) of the lines whose rest has not come in `seconds`: let go, with
        the marks of whole lines as old."""
        now = time.monotonic()
        old = [key for key, (_, _, since) in self._ends.items() if now - since >= seconds]
        pieces = [self._ends.pop(key) for key in old]
        return [(piece, ray_tag) for piece, ray_tag, _ in pieces if piece is not None]
