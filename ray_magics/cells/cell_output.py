"""Output sent to one cell: in a kernel, to the output of the cell whose request it was, also after
that cell has ended (its lines on its streams, a display updated in place); elsewhere, this
process's streams."""

import sys


class Sink:
    """Where a cell's output goes, the cell named by its request's header (`parent()` while it runs)."""

    def __init__(self, shell):
        self.kernel = getattr(shell, "kernel", None)
        self.shell = shell

    def parent(self) -> dict | None:
        """The header of the running cell's request, in a kernel; None elsewhere."""
        return getattr(self.shell, "parent_header", None) if self.kernel is not None else None

    def show(self, parent: dict | None, stream: str, text: str, running: bool) -> None:
        """`text` on the cell's `stream`; `running`: the cell runs now, and what it printed itself came first."""
        if self.kernel is None or parent is None:
            target = sys.stdout if stream == "stdout" else sys.stderr
            target.write(text)
            target.flush()
            return
        if running:
            _flush_own()
        self.kernel.session.send(
            self.kernel.iopub_socket, "stream", {"name": stream, "text": text},
            parent=parent, ident=f"stream.{stream}".encode(),
        )

    def display(self, parent: dict | None, display_id: str, text: str, first: bool, running: bool) -> None:
        """`text` as the cell's display `display_id`: shown `first`, then updated in place; printed on
        stderr where there is no kernel."""
        if self.kernel is None or parent is None:
            self.show(parent, "stderr", text + "\n", running)
            return
        if running:
            _flush_own()
        self.kernel.session.send(
            self.kernel.iopub_socket, "display_data" if first else "update_display_data",
            {"data": {"text/plain": text}, "metadata": {}, "transient": {"display_id": display_id}},
            parent=parent, ident=b"display_data",
        )


def _flush_own() -> None:
    for own in (sys.stdout, sys.stderr):
        own.flush()
