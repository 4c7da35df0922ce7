"""Starting, reaching and stopping Ray for the magics.

The embedded default is a local Ray sized for the memory this process may really use
(`memory`), token-authenticated, with its dashboard (when on) bound to 127.0.0.1 and its start-up
chatter kept out of cell output. Ctrl-C ends a wait for Ray's import or start at once and
leaves nothing half-done (see `host`); a cluster at an address must answer within the
connect timeout.
"""

import logging
import re
import sys
import time
from dataclasses import dataclass, field

from ..errors import RayUnavailableError, one_line
from . import auth
from .address import asks_for_token, check_reachable
from .host import RayHost
from .job_env import with_ray_magics
from .memory import object_store_size, plasma_directory
from .ray_import import import_ray, import_under_way
from .waits import interrupted

VERSIONS = re.compile(r"Ray: (\S+)\s+Python: (\S+)")  # in Ray's version mismatch message, the cluster's first


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


def runs_embedded() -> bool:
    """Whether the Ray running is the embedded one started here (not a cluster at an address)."""
    return is_running() and _host is not None and _host.embedded


def init_kwargs(options: StartOptions) -> dict:
    """Keyword arguments for `ray.init` that carry out `options`.

    With an address, the options that size a new local Ray do not apply, and the job's
    runtime environment ships ray_magics (`job_env`).
    """
    kwargs = {
        "namespace": options.namespace,
        "runtime_env": options.runtime_env or None,
        "logging_level": logging.ERROR,
        "log_to_driver": True,
    }
    if options.address:
        return {**kwargs, "address": options.address, "runtime_env": with_ray_magics(options.runtime_env)}
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
    versions = VERSIONS.findall(str(error))
    if str(error).startswith("Version mismatch") and len(versions) == 2:
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
