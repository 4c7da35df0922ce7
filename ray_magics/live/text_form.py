"""A live view's text where widgets are not drawn, kept to its last drawn state.

- In a widget front end, the display's `text/plain` (what nbconvert, GitHub's viewer and VS
  Code show from a saved notebook) starts as what the view is, then follows what it shows:
  `update_display_data` at most once a second while it changes, and once when it ends.
  The updates carry the displaying cell's header, so a notebook run by nbclient keeps the
  state at that cell's end, and JupyterLab the last one.
- In a terminal whose stdout is a tty, one line redrawn in place (`\\r`), as tqdm does, ended
  by a newline when the view ends.
- Elsewhere (scripts, logs: stdout not a tty) the view prints one final line, no `\\r`.
"""

import sys
import time
import uuid

from IPython import get_ipython
from IPython.display import display

UPDATE_EVERY = 1.0  # seconds between two updates of a displayed view's text while it changes
TEXT = "text/plain"


class DisplayedText:
    """The `text/plain` of a view displayed in a widget front end, updated as the view changes."""

    def __init__(self, bundle: dict, text: str):
        self.display_id = uuid.uuid4().hex
        self._bundle = bundle
        self._sent = text
        self._sent_at = time.monotonic()
        kernel = getattr(get_ipython(), "kernel", None)
        self._kernel = kernel
        self._parent = kernel.get_parent() if kernel is not None and hasattr(kernel, "get_parent") else None
        display({**bundle, TEXT: text}, raw=True, display_id=self.display_id)

    def update(self, view, final: bool) -> None:
        """Send the view's `shown_text` as the display's `text/plain` if it changed (while live: at
        most once a second)."""
        now = time.monotonic()
        if not final and now - self._sent_at < UPDATE_EVERY:
            return
        text = view.shown_text()
        if text == self._sent:
            return
        self._sent, self._sent_at = text, now
        content = {"data": {**self._bundle, TEXT: text}, "metadata": {}, "transient": {"display_id": self.display_id}}
        if self._kernel is None or not self._parent:
            display(content["data"], raw=True, display_id=self.display_id, update=True)
            return
        self._kernel.session.send(self._kernel.iopub_socket, "update_display_data", content, parent=self._parent)


class TerminalLine:
    """A view's one line in a terminal (stdout a tty), redrawn in place as the view changes."""

    def __init__(self, stream, view):
        self._stream = stream
        self._width = 0
        self.update(view, final=False)

    def update(self, view, final: bool) -> None:
        text = repr(view)
        padding = " " * max(0, self._width - len(text))  # (what is left of a longer line before)
        self._width = len(text)
        self._stream.write(f"\r{text}{padding}{chr(10) if final else ''}")
        self._stream.flush()


def is_terminal(stream=None) -> bool:
    """Whether `stream` (stdout by default) is a tty, where a line can be redrawn in place."""
    stream = stream or sys.stdout
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
