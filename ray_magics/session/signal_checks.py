"""How soon Ctrl-C ends a blocking `ray.get`: within a tenth of a second, not Ray's second.

Ray's driver looks for Ctrl-C (Jupyter's Stop) while blocked in `ray.get` or `ray.wait` every
`get_check_signal_interval_milliseconds`, a second by default, so Stop could take a second
to end a cell. Ray reads its config from `RAY_`-prefixed environment variables when it
connects; the variable is set here for that moment only (the local Ray then started keeps it,
harmlessly), unless the user set it.
"""

import contextlib
import os

CHECK_INTERVAL = "RAY_get_check_signal_interval_milliseconds"
CHECK_EVERY_MS = "100"


@contextlib.contextmanager
def prompt_interrupts():
    """While connecting, have Ray's driver look for Ctrl-C every 100 ms."""
    if CHECK_INTERVAL in os.environ:
        yield
        return
    os.environ[CHECK_INTERVAL] = CHECK_EVERY_MS
    try:
        yield
    finally:
        os.environ.pop(CHECK_INTERVAL, None)
