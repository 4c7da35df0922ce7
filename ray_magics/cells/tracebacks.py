"""Tracebacks with the cell's lines: an actor method's exception shown as IPython shows a local one.

A tracked class carries the lines of the cells that define it (`classes.counting.cell_sources`),
so the worker's traceback, which Ray sends as the error's text, has the source lines: `str(error)`
too. When such an error reaches a cell, the remote part is redrawn as IPython draws its own
frames: a frame of a cell as `Cell In[5], line 4, in boom` and the line, ray_magics's own frames
hidden, and the stray `^^^^` lines that Ray's trimming leaves dropped. The exception stays
Ray's `RayTaskError` that is also the user's type, so `except ValueError:` still catches it.

Ctrl-C in a wait on Ray (`ray.get`, `ray.wait`) shows the cell's frames down to the line that
called Ray, without the frames below it (Ray's own, and the threading or gRPC code Ray waits
in): they say nothing to the user, and drawing them (IPython reads the source of each) delayed
the end of the cell by half a second the first time and by seconds with the cores busy. Each
error is drawn once: IPython keeps that drawing in its history too (`_render_traceback_`),
rather than drawing every frame again.
"""

import re
import types
from pathlib import Path

from ..ray_internals import ray_source_prefixes
from ..session.ray_import import import_ray, ray_imported
from .cell_events import CellBehaviour

OWN_FILES = str(Path(__file__).resolve().parent.parent)  # ray_magics's own frames, hidden
FRAME = re.compile(r'^  File "(?P<file>.+)", line (?P<line>\d+), in (?P<name>.+)$')
MARKERS = re.compile(r"^\s*[~^]+\s*$")  # Python's column markers under a source line


def remote_lines(text: str, cell_name) -> list[str]:
    """Ray's traceback text of a remote error, as IPython shows frames: cells named `Cell In[n]`
    (`cell_name(file)`: IPython's `(label, name)` of a cell's file, else None), ray_magics's
    frames and column markers left out."""
    header, *rest = text.split("\n")
    lines, hidden = [header], False
    for line in rest:
        frame = FRAME.match(line)
        if frame:
            hidden = frame["file"].startswith(OWN_FILES)
            if not hidden:
                lines.append(_frame_line(frame, cell_name))
        elif MARKERS.match(line):
            continue
        elif line.startswith("    "):
            if not hidden:
                lines.append(line)
        else:
            hidden = False
            lines.append(line)
    return lines


def until_ray(tb):
    """The traceback `tb` down to the frame that called into Ray, without the frames from there on (a copy)."""
    rays = ray_source_prefixes()
    entries = []
    while tb is not None and not tb.tb_frame.f_code.co_filename.startswith(rays):
        entries.append(tb)
        tb = tb.tb_next
    trimmed = None
    for entry in reversed(entries):
        trimmed = types.TracebackType(trimmed, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return trimmed


def _frame_line(frame, cell_name) -> str:
    cell = cell_name(frame["file"])
    place = " ".join(cell) if cell else f"File {frame['file']}"
    return f"{place}, line {frame['line']}, in {frame['name']}"


class RemoteTracebacks(CellBehaviour):
    """Redraws the remote part of Ray's task errors in `shell`'s tracebacks, and leaves Ray's
    frames out of an interrupted wait's, once Ray is imported."""

    def __init__(self, shell, settings):
        super().__init__(shell, settings)
        self.handled = ()  # the exception types this set IPython's custom handler for

    def listen(self, on: bool) -> None:
        if on:
            return
        if self.handled and self.shell.custom_exceptions == self.handled:
            self.shell.set_custom_exc((), None)
        self.handled = ()

    def cell_starts(self, info) -> None:
        """Handle Ray's task errors from the first cell that runs with Ray imported, unless the
        shell already has a custom exception handler of someone else's."""
        if not ray_imported() or self.shell.custom_exceptions:
            return
        self.handled = (import_ray().exceptions.RayTaskError, KeyboardInterrupt)
        self.shell.set_custom_exc(self.handled, self.show)

    @staticmethod
    def show(shell, etype, value, tb, tb_offset=None):
        """IPython's custom exception handler: the local frames as IPython draws them, then the
        remote ones; an interrupt's frames down to the cell's line that waited on Ray."""
        if issubclass(etype, KeyboardInterrupt):
            if not hasattr(value, "_render_traceback_"):
                drawn = shell.InteractiveTB.structured_traceback(etype, value, until_ray(tb), tb_offset=tb_offset)
                value._render_traceback_ = lambda: drawn
            shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
            return
        local = shell.InteractiveTB.structured_traceback(etype, value, tb, tb_offset=tb_offset)[:-1]
        remote = "\n".join(remote_lines(str(value), shell.compile.format_code_name))
        drawn = [*local, f"{etype.__name__}: {remote}"]
        value._render_traceback_ = lambda: drawn
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
