"""Starting, reaching and stopping Ray for the magics.

Ray is imported here on first need only, so that loading the extension stays instant.
The embedded default is a local Ray sized for the memory this process may really use,
token-authenticated, with its dashboard (when on) bound to 127.0.0.1 and its start-up
chatter kept out of cell output. Ctrl-C ends a wait for Ray's import or start at once and
leaves nothing half-done (see `ray_host`); a cluster at an address must answer within the
connect timeout.
"""

import contextlib
import importlib
import logging
import os
import shutil
import sys
import tempfile
import threading
from dataclasses import dataclass, field

from IPython.core.error import UsageError

from .auth_token import keep_token_private
from .cluster_address import check_reachable
from .kernel_waits import interrupted, wait_event
from .ray_host import RayHost

OBJECT_STORE_SHARE = 0.3
OBJECT_STORE_MINIMUM = 80 * 2**20
SHARED_MEMORY_DIR = "/dev/shm"  # noqa: S108 - only measured, never written
CGROUP_LIMIT_FILES = (
    "/sys/fs/cgroup/memory.max",  # cgroup v2
    "/sys/fs/cgroup/memory/memory.limit_in_bytes",  # cgroup v1
)


@dataclass
class StartOptions:
    """What `%ray_init` and the extension's settings ask of Ray."""

    address: str | None = None
    num_cpus: int | None = None
    num_gpus: int | None = None
    namespace: str | None = None
    object_store_memory: int | None = None
    runtime_env: dict = field(default_factory=dict)
    dashboard: bool = False
    connect_timeout: float = 10.0  # seconds a cluster at `address` has to answer


_first_import_lock = threading.Lock()
_first_import = None  # the thread of Ray's first import, if this module started it
_first_import_over = threading.Event()  # (an interrupted `join` can leave `is_alive()` wrong)
_host = None  # the thread of the latest start (see `ray_host`)


def _import_first() -> None:
    try:
        importlib.import_module("ray")
    finally:
        _first_import_over.set()


def import_ray():
    """Import Ray, keeping its token authentication on without its warning.

    `RAY_AUTH_MODE` only takes effect when set before Ray's first import. That first
    import (seconds) runs in a thread, so Ctrl-C ends the wait at once without leaving Ray
    half-imported: the import goes on, and the next call waits for it.
    """
    global _first_import
    with _first_import_lock:
        if _first_import is None and "ray" not in sys.modules:
            os.environ.setdefault("RAY_AUTH_MODE", "token")
            _first_import = threading.Thread(target=_import_first, name="ray_magics-import", daemon=True)
            _first_import.start()
    if _first_import is not None:
        wait_event(_first_import_over)
    import ray

    return ray


def is_running() -> bool:
    """Whether this process is connected to a Ray cluster it keeps (never imports Ray, nor waits for its import).

    A start given up (Ctrl-C, timeout) does not count while it shuts down what it started.
    """
    if _first_import is not None and not _first_import_over.is_set():
        return False
    if _host is not None and _host.winding_down:
        return False
    ray = sys.modules.get("ray")
    return ray is not None and ray.is_initialized()


def runs_embedded() -> bool:
    """Whether the Ray running is the embedded one started here (not a cluster at an address)."""
    return is_running() and _host is not None and _host.embedded


def memory_limit() -> int:
    """Bytes of memory this process may use: the machine's, or its cgroup's if lower."""
    limit = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for path in CGROUP_LIMIT_FILES:
        with contextlib.suppress(OSError, ValueError):
            with open(path) as f:
                limit = min(limit, int(f.read().strip()))
    return limit


def object_store_size() -> int:
    """The embedded default's object store: a share of the memory this process may use."""
    return max(OBJECT_STORE_MINIMUM, int(memory_limit() * OBJECT_STORE_SHARE))


def plasma_directory(store_bytes: int) -> str | None:
    """Where the object store lives: /dev/shm unless it is too small (as on Binder)."""
    try:
        free = shutil.disk_usage(SHARED_MEMORY_DIR).free
    except OSError:
        return tempfile.gettempdir()
    return None if free >= store_bytes else tempfile.gettempdir()


def init_kwargs(options: StartOptions) -> dict:
    """Keyword arguments for `ray.init` that carry out `options`.

    With an address, the options that size a new local Ray do not apply.
    """
    kwargs = {
        "namespace": options.namespace,
        "runtime_env": options.runtime_env or None,
        "logging_level": logging.ERROR,
        "log_to_driver": True,
    }
    if options.address:
        return {"address": options.address, **kwargs}
    store = options.object_store_memory or object_store_size()
    kwargs.update(
        num_cpus=options.num_cpus,
        num_gpus=options.num_gpus,
        object_store_memory=store,
        include_dashboard=options.dashboard,
        dashboard_host="127.0.0.1",
    )
    directory = plasma_directory(store)
    if directory:
        kwargs["_plasma_directory"] = directory
    return kwargs


def start(options: StartOptions) -> None:
    """Start the embedded Ray or connect to a cluster; one-line `UsageError` on failure.

    A cluster at an address has `connect_timeout` seconds to answer. Ctrl-C raises
    `KeyboardInterrupt` at once; the start is then given up and its Ray shut down.
    """
    global _host
    __tracebackhide__ = True  # noqa: F841 - IPython hides this frame from tracebacks
    where = options.address or "a local Ray"
    timeout = options.connect_timeout if options.address else None
    host = None
    try:
        ray = import_ray()
        wait_for_given_up_start()
        if options.address:
            check_reachable(options.address, timeout)
        else:
            keep_token_private()
        host = _host = RayHost(ray, init_kwargs(options))
        host.start()
        returned = host.wait(timeout)
    except KeyboardInterrupt:
        if host is not None:
            host.give_up()
        raise interrupted(f"the start of {where} was interrupted; nothing of it is kept") from None
    if not returned:
        host.give_up()
        raise UsageError(f"could not start {where}: no answer within {timeout:g} s")
    if host.error is not None:
        raise UsageError(f"could not start {where}: {one_line(host.error)}")


def wait_for_given_up_start() -> None:
    """Wait until a start given up earlier (Ctrl-C, timeout) has shut down what it started."""
    if _host is not None and _host.given_up:
        _host.wait_until_over()


def ensure_running(options: StartOptions) -> None:
    """Start Ray with `options` unless this process is already connected."""
    if not is_running():
        start(options)


def shutdown() -> bool:
    """Disconnect from Ray (stopping the embedded one) and end its host thread; False if it was not running."""
    if not is_running():
        return False
    sys.modules["ray"].shutdown()
    if _host is not None:
        _host.give_up()
        _host.wait_until_over()
    return True


def one_line(error: BaseException) -> str:
    """The first line of an exception's message, or its type name."""
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__

