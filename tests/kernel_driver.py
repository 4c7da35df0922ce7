"""A real ipykernel in a subprocess, driven cell by cell through jupyter_client.

For tests that need what only a separate kernel gives: its own Ray connection (a cluster
of the test's own), a real interrupt (SIGINT to the kernel), a kernel that must survive
Ray failing underneath it.
"""

import ast
import contextlib
import os
import queue
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from jupyter_client.manager import start_new_kernel

KERNEL_START_SECONDS = 60


@dataclass
class CellResult:
    """What one cell sent back: its streams, its displays, its error, how long it took."""

    stdout: str = ""
    stderr: str = ""
    displays: list[str] = field(default_factory=list)  # text/plain of each display and result
    updates: list[str] = field(default_factory=list)  # text/plain of each update of a display
    shown_after: list[float] = field(default_factory=list)  # for each display: seconds since the cell began
    began: datetime | None = None  # when the kernel began the cell (its execute_input's date)
    count: int | None = None  # its execution count: `In [count]`
    error: tuple[str, str] | None = None  # (ename, evalue)
    traceback: list[str] = field(default_factory=list)  # the error's lines, as the front end shows them
    seconds: float = 0.0

    @property
    def text(self) -> str:
        """Everything the cell showed as text, in order of kind: stdout, displays, stderr."""
        return "\n".join(filter(None, (self.stdout, *self.displays, self.stderr)))


class Kernel:
    """A python3 ipykernel started with `env` added to this process's environment."""

    def __init__(self, env: dict | None = None, cwd: str | None = None, stderr=None):
        """`stderr`: a file for what the kernel process writes there, as a Jupyter server's log gets it."""
        self.manager, self.client = start_new_kernel(
            startup_timeout=KERNEL_START_SECONDS, kernel_name="python3",
            env={**os.environ, **(env or {})}, cwd=cwd, **({"stderr": stderr} if stderr else {}),
        )
        self.later = defaultdict(CellResult)  # request id -> what its cell got while others were collected

    def _record(self, result: CellResult, message: dict) -> bool:
        """Add an iopub message to what a cell got; whether it says the cell is done (idle)."""
        kind, content = message["msg_type"], message["content"]
        if kind == "stream":
            name = "stdout" if content["name"] == "stdout" else "stderr"
            setattr(result, name, getattr(result, name) + content["text"])
        elif kind == "execute_input":
            result.began, result.count = message["header"]["date"], content["execution_count"]
        elif kind in ("display_data", "execute_result"):
            result.displays.append(content["data"].get("text/plain", ""))
            if result.began is not None:
                result.shown_after.append((message["header"]["date"] - result.began).total_seconds())
        elif kind == "update_display_data":
            result.updates.append(content["data"].get("text/plain", ""))
        elif kind == "error":
            result.error = (content["ename"], content["evalue"])
            result.traceback = content["traceback"]
        return kind == "status" and content["execution_state"] == "idle"

    def submit(self, code: str, cell_id: str | None = None) -> str:
        """Start running `code` (as the cell `cell_id`, sent as JupyterLab sends it); returns the
        request's id for `collect`."""
        if cell_id is None:
            return self.client.execute(code, allow_stdin=False)
        content = {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                   "allow_stdin": False, "stop_on_error": True}
        message = self.client.session.msg("execute_request", content, metadata={"cellId": cell_id})
        self.client.shell_channel.send(message)
        return message["header"]["msg_id"]

    def collect(self, msg_id: str, timeout: float = 120, result: CellResult | None = None,
                until=None) -> CellResult:
        """Wait for the cell `msg_id` to finish (or, with `until`, until `until(result)` holds)
        and gather what it sent (into `result`, if given)."""
        started = time.monotonic()
        result = CellResult() if result is None else result
        while True:
            if until is not None and until(result):
                return result
            remaining = timeout - (time.monotonic() - started)
            if remaining <= 0:
                raise TimeoutError(f"the cell did not finish within {timeout} s")
            try:
                message = self.client.get_iopub_msg(timeout=remaining)
            except queue.Empty:
                continue
            parent = message["parent_header"].get("msg_id")
            if parent != msg_id:
                self._record(self.later[parent], message)
            elif self._record(result, message):
                result.seconds = time.monotonic() - started
                return result

    def after_end(self, msg_id: str, seconds: float) -> CellResult:
        """What the cell `msg_id` got after it finished, waiting `seconds` more for it."""
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                message = self.client.get_iopub_msg(timeout=remaining)
            except queue.Empty:
                break
            self._record(self.later[message["parent_header"].get("msg_id")], message)
        return self.later[msg_id]

    def run(self, code: str, timeout: float = 120, cell_id: str | None = None) -> CellResult:
        """Run one cell (as the cell `cell_id`, if given) and return what it sent."""
        return self.collect(self.submit(code, cell_id), timeout)

    def check(self, code: str, timeout: float = 120, cell_id: str | None = None) -> CellResult:
        """Run one cell that must not raise, nor end in a magic's `UsageError` (which a kernel shows
        on stderr alone, with no error in its reply)."""
        result = self.run(code, timeout, cell_id)
        assert result.error is None, f"{code!r} raised {result.error}: {result.stderr}"
        assert not result.stderr.startswith("UsageError:"), f"{code!r} gave {result.stderr}"
        return result

    def value(self, expression: str):
        """The value of a Python literal expression (numbers, strings, lists, dicts...) evaluated in the kernel."""
        return ast.literal_eval(self.check(f"print(repr({expression}))").stdout.strip())

    def interrupt(self) -> None:
        """Ctrl-C: SIGINT to the kernel process."""
        self.manager.interrupt_kernel()

    def interrupt_after(self, code: str, seconds: float, timeout: float = 30,
                        started: str | None = None) -> tuple[CellResult, float]:
        """Run `code`, press Ctrl-C after `seconds`; what the cell sent, and how long it took to end after Ctrl-C.

        With `started`, the seconds count from when the cell printed that line (a loaded machine
        may start a cell late), and the line is left out of what the cell sent.
        """
        request = self.submit(code)
        result = CellResult()
        if started is not None:
            self.collect(request, timeout, result, until=lambda sent: f"{started}\n" in sent.stdout)
        time.sleep(seconds)
        pressed = time.monotonic()
        self.interrupt()
        result = self.collect(request, timeout, result)
        result.stdout = result.stdout.replace(f"{started}\n", "", 1) if started is not None else result.stdout
        return result, time.monotonic() - pressed

    def close(self) -> None:
        """Shut the kernel down and stop every thread of its client, the heartbeat's too."""
        try:
            self.manager.shutdown_kernel(now=False)
        finally:
            self.client.stop_channels()
            if self.client.hb_channel.is_alive():
                self.client.hb_channel.stop()



@contextlib.contextmanager
def kernel_with(*cells: str, **options):
    """A `Kernel(**options)` that has run `cells`, each of which must work, shut down when the `with`
    ends (also when a cell fails): a test module's kernel."""
    started = Kernel(**options)
    try:
        for cell in cells:
            started.check(cell)
        yield started
    finally:
        started.close()


def text_table(text: str) -> list[dict]:
    """The rows of an aligned text table (`%actors`), each a dict of column name to value."""
    header, *lines = text.strip().splitlines()
    starts = [i for i, char in enumerate(header) if char != " " and (i == 0 or header[i - 2 : i] == "  ")]
    names = [header[start:end].strip() for start, end in zip(starts, [*starts[1:], None], strict=True)]
    return [
        {name: line[start:end].strip() for name, start, end in zip(names, starts, [*starts[1:], None], strict=True)}
        for line in lines
    ]
