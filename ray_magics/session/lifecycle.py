"""Starting, reaching and stopping Ray for the magics.

The embedded default is a local Ray sized for the memory this process may really use
(`start_options`), token-authenticated, with its dashboard (when on) bound to 127.0.0.1 and its start-up
chatter kept out of cell output. Ctrl-C ends a wait for Ray's import or start at once and
leaves nothing half-done (see `host`); a cluster at an address must answer within the
connect timeout.
"""

import sys
import time

from ..errors import InputError, RayUnavailableError, one_line
from ..ray_internals import mismatched_versions
from . import auth
from .address import asks_for_token, check_reachable
from .host import RayHost
from .ray_import import import_ray, import_under_way
from .start_options import StartOptions, init_kwargs
from .waits import interrupted

_host = None  # the thread of the latest start (see `host`)


def is_running() -> bool:
    """Whether this process is connected to a Ray cluster it keeps (never imports Ray, nor waits for its import).

    A start given up (Ctrl-C, timeout) does not count while it shuts down what it started.
    """
    if import_under_way():
        return False
    if _host is not None and _host.winding_down:
        return False
    ray = sys.modules.get("ray")
    return ray is not None and ray.is_initialized()


def check_running() -> None:
    """`InputError` unless Ray is running: for what reads or acts on Ray and never starts it."""
    if not is_running():
        raise InputError("Ray is not running")


def runs_embedded() -> bool:
    """Whether the Ray running is the embedded one started here (not a cluster at an address)."""
    return is_running() and _host is not None and _host.embedded


def start(options: StartOptions) -> None:
    """Start the embedded Ray or connect to a cluster; `RayUnavailableError` on failure.

    A cluster at an address has `connect_timeout` seconds to answer. Ctrl-C raises
    `KeyboardInterrupt` at once; the start is then given up and its Ray shut down.
    """
    global _host
    __tracebackhide__ = True  # noqa: F841 - IPython hides this frame from tracebacks
    where = options.address or "a local Ray"
    deadline = time.monotonic() + options.connect_timeout if options.address else None
    host = None
    try:
        ray = import_ray()
        wait_for_given_up_start()
        if options.address:
            check_reachable(options.address, _left(deadline))
            token = asks_for_token(options.address, _left(deadline))
            if token is None:
                raise no_answer(where, options.connect_timeout)
            auth.follow(token=token)
        else:
            auth.follow(token=True)
            auth.keep_token_private()
        host = _host = RayHost(ray, init_kwargs(options))
        host.start()
        returned = host.wait(_left(deadline))
    except KeyboardInterrupt:
        if host is not None:
            host.give_up()
        raise interrupted(f"the start of {where} was interrupted; nothing of it is kept") from None
    if not returned:
        host.give_up()
        raise no_answer(where, options.connect_timeout)
    if host.error is not None:
        host.wait_until_over()  # (its Ray's shutdown still authenticates)
        auth.follow(token=False)  # nothing started: nothing to authenticate to
        raise RayUnavailableError(f"could not start {where}: {failure_reason(host.error)}")


def failure_reason(error: BaseException) -> str:
    """One line for a failed `ray.init`; a version mismatch names both sides' Ray and Python."""
    versions = mismatched_versions(error)
    if versions:
        (cluster_ray, cluster_python), (own_ray, own_python) = versions
        return (f"the cluster runs Ray {cluster_ray} (Python {cluster_python}), this kernel Ray {own_ray} "
                f"(Python {own_python}); a driver needs the cluster's versions")
    return one_line(error)


def no_answer(where: str, timeout: float) -> RayUnavailableError:
    return RayUnavailableError(f"could not start {where}: no answer within {timeout:g} s")


def _left(deadline: float | None) -> float | None:
    """Seconds left until `deadline` (None: no deadline)."""
    return None if deadline is None else max(0.0, deadline - time.monotonic())


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
    auth.follow(token=False)  # no Ray left to authenticate to
    return True
