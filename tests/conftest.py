"""A real IPython shell with the extension loaded, against one real Ray (2 CPUs)."""

import signal
import socket
import threading
import time

import pytest
from IPython.core.error import UsageError
from IPython.testing.globalipapp import start_ipython
from IPython.utils.capture import capture_output

from ray_magics.live.refresher import REFRESHER

THREAD_GRACE_SECONDS = 1.0


def pytest_configure(config):
    """Ctrl-C raises `KeyboardInterrupt` here, as in a kernel, even when the suite was started in the
    background of a shell, which starts it with SIGINT ignored (the tests send themselves SIGINT)."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def session_shell():
    shell = start_ipython()
    shell.run_line_magic("load_ext", "ray_magics")
    with capture_output():
        shell.run_line_magic("ray_init", "--num-cpus 2")
    yield shell
    shell.run_line_magic("ray_shutdown", "")


@pytest.fixture
def ip(session_shell):
    """The shell, with the names a test adds to the user namespace removed after it."""
    names = set(session_shell.user_ns)
    yield session_shell
    for name in set(session_shell.user_ns) - names:
        del session_shell.user_ns[name]


@pytest.fixture(autouse=True)
def no_leaked_threads(request):
    """Fail any test that leaves a thread running that was not there before it."""
    if "session_shell" in request.fixturenames:
        request.getfixturevalue("session_shell")
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + THREAD_GRACE_SECONDS
    while (leaked := set(threading.enumerate()) - before) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not leaked, f"threads left running: {sorted(t.name for t in leaked)}"


@pytest.fixture
def no_live_views():
    """The test ends with no live view left refreshing (and so no refresher thread)."""
    yield
    REFRESHER.end_all("test over")


def wait_for(condition, timeout=5.0, what="condition"):
    """Poll `condition` until it is true; fail if it is not within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} not met within {timeout} s"
        time.sleep(0.01)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (just released by the OS)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def usage_error(run) -> str:
    """The message of the `UsageError` that `run()` raises; it must be one line."""
    with pytest.raises(UsageError) as caught:
        run()
    message = str(caught.value)
    assert caught.type is UsageError
    assert "\n" not in message.strip(), message
    return message
