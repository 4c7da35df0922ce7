"""Every private Ray API that ray_magics uses, and why no public one serves.

Ray promises none of these across releases. Each is used here only, so a release that
changes one breaks this module alone. `python3 run.py test` runs the tests on the oldest
supported Ray (pyproject's floor, 2.52: the first with token authentication) and on the
newest. Functions import Ray lazily and are called only once Ray is imported.
"""

import contextlib
import functools
import os
import re
import sys
from pathlib import Path
from types import SimpleNamespace

# --------------------------------------------------------------------------- the process's Ray


def refresh_config() -> None:
    """Make this process's Ray reread `RAY_AUTH_MODE` and the rest of its config from the environment.

    Why private: Ray caches its config when first read, and no public API rereads it; Ray
    calls this itself when it turns token authentication on for a new local cluster.
    """
    from ray._raylet import Config

    Config.initialize("")


def local_session_name() -> str | None:
    """The session of the local Ray node this process started or joined; None if none (Ray Client).

    Why private: the GCS address can repeat from one start to the next, the session name never
    does; `ray.get_runtime_context().get_session_name()` names it from Ray 2.60 on, not in 2.52.
    """
    from ray._private import worker

    node = worker._global_node
    return None if node is None else node.session_name


def connect_or_shutdown_lock():
    """The lock that `ray.init` and `ray.shutdown` hold while they connect or disconnect.

    Why private: nothing public keeps `ray.shutdown()` from running while a background
    thread still uses the core worker, which ends the process.
    """
    from ray._private.worker import _connect_or_shutdown_lock

    return _connect_or_shutdown_lock


@contextlib.contextmanager
def prompt_interrupts():
    """While connecting, have Ray's driver look for Ctrl-C every 100 ms instead of every second.

    Why private: a driver blocked in `ray.get` or `ray.wait` looks for Ctrl-C (Jupyter's Stop)
    every `get_check_signal_interval_milliseconds`, a second by default, and Ray documents no
    way to change it; Ray reads its config from `RAY_`-prefixed environment variables when it
    connects. The variable is set for that moment only (the local Ray then started keeps it,
    harmlessly), unless the user set it. Checked on Ray 2.52 and 2.60.
    """
    if SIGNAL_CHECK_INTERVAL in os.environ:
        yield
        return
    os.environ[SIGNAL_CHECK_INTERVAL] = "100"
    try:
        yield
    finally:
        os.environ.pop(SIGNAL_CHECK_INTERVAL, None)


SIGNAL_CHECK_INTERVAL = "RAY_get_check_signal_interval_milliseconds"
START_TIP = "Tip: In future versions of Ray"  # a FutureWarning some releases' ray.init gives about GPU env vars


def with_object_store_directory(init_kwargs: dict, directory: str) -> dict:
    """`ray.init` keyword arguments that keep the object store in `directory` (as on Binder,
    where /dev/shm is too small for it).

    Why private: `ray.init` takes the directory only as its underscored `_plasma_directory`;
    `ray start` has the public `--plasma-directory`, `ray.init` nothing else. Checked on Ray
    2.52 and 2.60.
    """
    return {**init_kwargs, "_plasma_directory": directory}


VERSIONS = re.compile(r"Ray: (\S+)\s+Python: (\S+)")  # in Ray's version mismatch message, the cluster's first


def mismatched_versions(error: BaseException) -> tuple[tuple[str, str], tuple[str, str]] | None:
    """The cluster's and this process's (Ray, Python) versions named by `ray.init`'s version
    mismatch error; None for any other error.

    Why private: Ray raises a plain `RuntimeError` whose text alone names the versions.
    Checked on Ray 2.52 and 2.60.
    """
    versions = VERSIONS.findall(str(error))
    if str(error).startswith("Version mismatch") and len(versions) == 2:
        return versions[0], versions[1]
    return None


# Every GCS answers this gRPC method; one that wants a token refuses it without one. Why
# private: Ray has no public call that asks a cluster whether it wants a token before
# `ray.init` tries (and retries for a minute). Checked on Ray 2.52 and 2.60.
GCS_ALIVE_CHECK = "/ray.rpc.NodeInfoGcsService/CheckAlive"


# --------------------------------------------------------------------------- actor classes


# Ray applies a method's `__ray_invocation_decorator__` where each call of it is made. Why
# private: Ray has no public hook on a call's submission. Checked on Ray 2.52 and 2.60.
INVOCATION_DECORATOR = "__ray_invocation_decorator__"


def in_concurrency_group(function, group: str):
    """`function`, run in the actor's concurrency group `group`, as `@ray.method(concurrency_group=group)` makes it.

    Why private: `ray.method` is public but needs Ray imported, and the functions it marks are
    made when a module that `%load_ext` loads is imported, before Ray is; this sets the
    attribute that `ray.method` sets. Checked on Ray 2.52 and 2.60.
    """
    function.__ray_concurrency_group__ = group
    return function


@functools.cache
def ray_source_prefixes() -> tuple[str, ...]:
    """How the frames of Ray's own code name their files: its Python package's folder, and the
    `python/ray/…` paths of its compiled modules (`_raylet.pyx`).

    Why private: the compiled modules' frames carry the paths of Ray's source tree, which Ray
    does not document; nothing public tells Ray's frames from others.
    """
    import ray

    return str(Path(ray.__file__).resolve().parent), "python/ray/"


@functools.cache
def auto_init_code():
    """The code of the wrapper through which `ray.get`, `ray.wait` and others start Ray when it is not running.

    Why private: Ray offers no unwrapped `ray.get`; its public switch
    (`RAY_ENABLE_AUTO_CONNECT`) is process-wide and the user's.
    """
    from ray._private.auto_init_hook import wrap_auto_init

    return wrap_auto_init(lambda: None).__code__


def through_client() -> bool:
    """Whether this process reaches Ray through Ray Client (`ray://`).

    Why private: `ray.util.client` is Ray Client's own module, not Ray's public API.
    """
    import ray.util.client

    return ray.util.client.ray.is_connected()


# --------------------------------------------------------------------------- the GCS's records


@functools.cache
def gcs_protos() -> SimpleNamespace:
    """Ray's protobuf messages: `ActorTableData` records from the GCS, `ActorHandle` to build a handle.

    Why private: the GCS's records are Ray's internal schema; the public state API
    (`ray.util.state`) needs the dashboard, which is off by default.
    """
    from ray.core.generated import common_pb2, core_worker_pb2, gcs_pb2

    return SimpleNamespace(
        ActorTableData=gcs_pb2.ActorTableData, ActorHandle=core_worker_pb2.ActorHandle, PYTHON=common_pb2.PYTHON,
        ResourceUsageBatchData=gcs_pb2.ResourceUsageBatchData,
    )


def actor_records(actor_id: str | None = None, state_name: str | None = None) -> list[bytes]:
    """Serialized `ActorTableData` records of every actor of every job (only those in the state
    `state_name`, such as `ALIVE`, if given), or of the one with `actor_id` (hex).

    Why private: `ray.util.state.list_actors` needs the dashboard; the GCS always answers.
    """
    import ray
    from ray._private import state

    accessor = state.state._connect_and_get_accessor()
    if actor_id is None:
        return accessor.get_actor_table(None, state_name)
    record = accessor.get_actor_info(ray.ActorID(bytes.fromhex(actor_id)))
    return [] if record is None else [record]


def available_resources_per_node() -> dict:
    """Node id -> resources free on it.

    Why private: `ray.available_resources()` sums all nodes, and `ray.nodes()` gives totals only.
    """
    from ray._private import state

    return state.available_resources_per_node()


def resource_usage() -> list:
    """Per alive node, as the GCS last heard from it: its id (hex), and its total, free and asked-for
    resources (`total`, `available`, `load`: what the requests queued there for resources need).

    Why private: the public `ray.available_resources()` sums all nodes, and nothing public tells
    what is queued; the autoscaler reads the same `ResourceUsageBatchData`. Checked on Ray 2.52 and 2.60.
    """
    from ray._private import state

    raw = state.state._connect_and_get_accessor().get_all_resource_usage()
    batch = gcs_protos().ResourceUsageBatchData.FromString(raw)
    return [
        SimpleNamespace(node_id=node.node_id.hex(), address=node.node_manager_address,
                        total=dict(node.resources_total), available=dict(node.resources_available),
                        load=dict(node.resource_load))
        for node in batch.batch
    ]


def dashboard_address() -> str:
    """`host:port` of the cluster's dashboard, '' when it has none.

    Why private: `ray.init()` tells only the process that called it; a task or a process
    that joined later reads it from the GCS's key-value store.
    """
    from ray._private import services

    return services.get_webui_url_from_internal_kv() or ""


def weak_actor_handle(spec: bytes):
    """A handle, never keeping its actor alive, from a serialized `ActorHandle` message.

    Why private: Ray gives a handle by name only (`ray.get_actor`), and most actors have none.
    """
    from ray._private import worker

    return worker.global_worker.core_worker.deserialize_and_register_actor_handle(spec, None, True)


# --------------------------------------------------------------------------- objects


def read_errors(refs: list) -> list:
    """For each ref ready in this process's memory: its exception if it holds an error, else None.
    Values are read as bytes and never deserialized; `GetTimeoutError` if one is not here yet.

    Why private: Ray's public `ray.get` deserializes every value; only the core worker's
    `get_objects` hands back the serialized object, whose metadata tells an error (its type's
    number) from a value, so only errors need deserializing.
    """
    from ray._private import worker

    driver = worker.global_worker
    found = [None] * len(refs)
    objects = driver.core_worker.get_objects(refs, 0)
    for index, stored in enumerate(objects):
        kind = (stored.metadata or b"").split(b",")[0]
        if kind.isdigit():  # a value's metadata names its format; an error's is a number
            found[index] = driver.deserialize_objects([stored], [refs[index]])[0]
    return found


# --------------------------------------------------------------------------- actor handles and methods


def handle_kinds() -> tuple[type, type]:
    """The types of actor handles: a driver's and Ray Client's.

    Why private: Ray Client's handle type is not exported where `ray.actor.ActorHandle` is.
    """
    import ray.actor
    from ray.util.client import common

    return ray.actor.ActorHandle, common.ClientActorHandle


def method_kinds() -> tuple[type, type]:
    """The types of actor methods (`handle.name`): a driver's and Ray Client's, as `handle_kinds`."""
    import ray.actor
    from ray.util.client import common

    return ray.actor.ActorMethod, common.ClientRemoteMethod


def method_handle(method, driver: bool):
    """The actor handle a method belongs to: a driver's `ActorMethod` (`driver`) or Ray Client's.

    Why private: a method keeps its handle, and its name, in private attributes only.
    """
    return method._actor if driver else method._actor_handle


def method_name(method) -> str:
    """The name of an actor method, as `method_handle`."""
    return method._method_name


def actor_id(handle) -> str:
    """The hex id of the actor behind a handle.

    Why private: a handle has no public id; `ray.get_runtime_context()` knows only the
    current actor's.
    """
    return handle._actor_id.hex()


def class_name(handle) -> str:
    """The class name of the actor behind a driver's handle.

    Why private: a handle keeps its class only in its creation descriptor.
    """
    return handle._ray_actor_creation_function_descriptor.class_name


def placement_cpus(handle) -> int | None:
    """The CPUs an actor needs to be placed beyond those it holds while it lives: 1 for an actor given
    no resources (Ray's default: a CPU to place it, none to keep it), else 0; None for a Ray Client's
    handle, which does not know.

    Why private: the GCS records only what an actor holds; a driver's handle keeps the CPUs of its
    methods, the difference, in a private attribute. Checked on Ray 2.52 and 2.60.
    """
    return getattr(handle, "_ray_actor_method_cpus", None)


def call_quietly(method, *args):
    """A driver's `method.remote(*args)`, never retried and leaving no task events.

    Why private: the public `method.options(enable_task_events=False).remote()` passes
    through Ray's auto-init wrapper, which would start a new Ray from the refresher's thread
    after a `ray.shutdown()`, and copies the options anew on every poll.
    """
    return method._actor._actor_method_call(
        method._method_name, args=list(args), num_returns=method._num_returns,
        max_task_retries=0, retry_exceptions=False, enable_task_events=False,
        tensor_transport=method._tensor_transport,  # the method's own, as `remote` passes
    )


# --------------------------------------------------------------------------- Ray Client calls, and creations


def announce_through_client(announce, created, marker: str) -> None:
    """Make Ray Client announce as a driver does, for an actor whose class has a method named
    `marker`: a call of its method hands its refs to `announce(refs, None)` (whether the actor is
    async is not known here: None), as the method's `__ray_invocation_decorator__` does in a
    driver; the actor's creation hands its handle and its class's stub to `created(handle, stub)`,
    as `announce_creations` does. Installed once per process: later calls change nothing.

    Why private: Ray Client's stubs never apply a method's invocation decorator, and a client's
    actor class is created on Ray's server, where nothing listens; the stubs' `remote` is the one
    place a client calls or creates.

    Patches: the `remote` of Ray Client's four stub classes (methods, actor classes, and their
    `.options(...)` wrappers). Undone by `stop_announcing_through_client` (`%unload_ext`).
    """
    from ray.util.client import common

    def tracked_method(stub) -> bool:
        return (
            isinstance(stub, common.ClientRemoteMethod)
            and not stub._method_name.startswith("_")  # (as a driver: public methods announce, polls do not)
            and marker in (stub._actor_handle._method_signatures or {})
        )

    def tracked_class(stub) -> bool:
        return hasattr(getattr(stub, "actor_cls", None), marker)

    method_stubs, class_stubs = _client_stubs()
    for stub in method_stubs:
        if not getattr(stub.remote, "_ray_magics_announces", False):
            stub.remote = _announcing(stub.remote, tracked_method, lambda refs, _: announce(refs, None))
    for stub in class_stubs:
        if not getattr(stub.remote, "_ray_magics_announces", False):
            stub.remote = _announcing(stub.remote, tracked_class, created)


def _client_stubs() -> tuple[tuple[type, ...], tuple[type, ...]]:
    """Ray Client's stubs that call a method and that create an actor, each with its `.options(...)` wrapper."""
    from ray.util.client import common

    return (common.ClientRemoteMethod, common.OptionWrapper), (common.ClientActorClass, common.ActorOptionWrapper)


def stop_announcing_through_client() -> None:
    """Give Ray Client's stubs back their own `remote` (undoes `announce_through_client`)."""
    if "ray.util.client.common" not in sys.modules:
        return  # never patched: Ray Client was never imported
    for stub in (stub for stubs in _client_stubs() for stub in stubs):
        if getattr(stub.remote, "_ray_magics_announces", False):
            stub.remote = stub.remote.__wrapped__


def _announcing(remote, tracked, tell):
    """`remote` of a Ray Client stub that also tells `tell(made, stub)` what it returns when `tracked(stub)`."""

    @functools.wraps(remote)
    def announcing(stub, *args, **kwargs):
        made = remote(stub, *args, **kwargs)
        stub = getattr(stub, "_remote_stub", stub)  # (an `.options(...)` wrapper's stub)
        if tracked(stub):
            tell(made, stub)
        return made

    announcing._ray_magics_announces = True
    return announcing


def announce_creations(actor_class, creating) -> None:
    """Make `actor_class.remote()` and `.options(...).remote()` create through
    `creating(actor_class, *args, **kwargs)`, which creates with `create_actor`. `creating` is
    set on the class Ray made for this actor class alone, and must be importable by name (the
    class travels by value). Ray Client's classes create through Ray's server and are left as
    they are.

    Why private: `_remote` is where every actor of an `ActorClass` is created, and Ray has
    no public hook there.

    Patches: `_remote` of the class Ray made for this actor class alone, never Ray's own
    `ActorClass`. Not undone: it belongs to the actor class, whose actors it goes on creating
    as Ray's does (after `%unload_ext` with nobody to tell).
    """
    from ray.actor import ActorClass

    if isinstance(actor_class, ActorClass):
        type(actor_class)._remote = creating


def create_actor(actor_class, args, kwargs):
    """Create an actor as Ray's own `ActorClass._remote(*args, **kwargs)` does, below `announce_creations`."""
    return super(type(actor_class), actor_class)._remote(*args, **kwargs)


# --------------------------------------------------------------------------- workers' output

# Lines Ray itself reads from a worker's output (the actor's and task's names, the job, tqdm's
# progress bars), to be left as Ray wrote them. Why private: Ray's log format is undocumented;
# its log monitor reads these marks. Checked on Ray 2.52 and 2.60.
RAY_OUTPUT_MARKS = re.compile(r"^:(actor_name|task_name|job_id):|__ray_tqdm_magic_token__")


# What Ray Client puts in front of each worker line it prints: `(Name pid=…, ip=…) `, maybe
# coloured. Why private: Ray's log format is undocumented. Checked on Ray 2.52 and 2.60.
RAY_CLIENT_LINE_PREFIX = re.compile(r"(?:\x1b\[[0-9;]*m)*\(.*?pid=\w+(?:, ip=[^)]*)?\)(?:\x1b\[[0-9;]*m)* ")


def actor_part_of_task_id(task_id: bytes) -> str:
    """The hex of the part of an actor call's task id that names its actor.

    Why private: Ray documents no layout of a `TaskID`; an actor task's id is 8 bytes of its
    own followed by its actor's id (checked on Ray 2.52 and 2.60).
    """
    return task_id[8:].hex()


RAY_PRINTER = "ray_print_logs"  # the name of Ray's handler that prints the workers' lines in a driver


def claim_worker_output(claim) -> None:
    """Let `claim(lines, ray_tag, source)` take lines of the workers' output before Ray prints them:
    it returns those it leaves to Ray. `ray_tag` is the `(Name pid=…)` Ray puts in front of the
    lines, or None where Ray already put it in front of each line (Ray Client); `source` tells
    apart the log files the lines come from (through Ray Client, only their stream). Installed on
    the driver's printer, again after each `ray.init`, and on Ray Client's; calls with the same
    `claim` change nothing.

    Why private: Ray prints the workers' lines from a handler of its log dispatcher, or, through
    Ray Client, from `LogstreamClient.stdstream`; neither offers a public hook.

    Patches: the printer among the dispatcher's handlers, and `LogstreamClient.stdstream`.
    Undone by `release_worker_output` (`%unload_ext`).
    """
    from ray._private.ray_logging import global_worker_stdstream_dispatcher as dispatcher
    from ray.util.client.logsclient import LogstreamClient

    with dispatcher._lock:
        dispatcher.handlers = [
            (name, _claiming_printer(handler, claim) if name == RAY_PRINTER else handler)
            for name, handler in dispatcher.handlers
        ]
    stdstream = getattr(LogstreamClient.stdstream, "_ray_magics_printer", LogstreamClient.stdstream)
    if getattr(LogstreamClient.stdstream, "_ray_magics_claim", None) is not claim:
        LogstreamClient.stdstream = _claiming_client_printer(stdstream, claim)


def release_worker_output() -> None:
    """Give Ray's printers of the workers' lines back (undoes `claim_worker_output`)."""
    if "ray" not in sys.modules:
        return  # never claimed: Ray was never imported
    from ray._private.ray_logging import global_worker_stdstream_dispatcher as dispatcher
    from ray.util.client.logsclient import LogstreamClient

    with dispatcher._lock:
        dispatcher.handlers = [
            (name, getattr(handler, "_ray_magics_printer", handler)) for name, handler in dispatcher.handlers
        ]
    LogstreamClient.stdstream = getattr(LogstreamClient.stdstream, "_ray_magics_printer", LogstreamClient.stdstream)


def _claiming_printer(printer, claim):
    printer = getattr(printer, "_ray_magics_printer", printer)

    def claiming(data):
        lines = data.get("lines") or []
        left = _claimed(claim, lines, _ray_tag(data), (data.get("ip"), data.get("pid"), data.get("is_err")))
        if left == lines:
            printer(data)
        elif left:
            printer({**data, "lines": left})

    claiming._ray_magics_printer = printer
    claiming._ray_magics_claim = claim
    return claiming


def _claiming_client_printer(stdstream, claim):
    @functools.wraps(stdstream)
    def claiming(client, level, msg):
        left = _claimed(claim, msg.splitlines(), None, level)
        if left:
            stdstream(client, level, "".join(line + "\n" for line in left))

    claiming._ray_magics_printer = stdstream
    claiming._ray_magics_claim = claim
    return claiming


def _claimed(claim, lines, ray_tag, source):
    """The lines `claim` leaves to Ray: all of them if it fails, so that none is lost."""
    if not lines:
        return lines
    try:
        return claim(lines, ray_tag, source)
    except Exception:  # noqa: BLE001 - Ray's printer then shows every line
        return lines


def _ray_tag(data) -> str:
    """`(Name pid=…, ip=…)` as Ray's `print_worker_logs` puts it in front of a worker's lines."""
    name = data.get("actor_name") or data.get("task_name")
    ip = data.get("ip")
    where = "" if ip == data.get("localhost") else f", ip={ip}"
    return f"({name + ' ' if name else ''}pid={data.get('pid')}{where})"


# --------------------------------------------------------------------------- Ray's message text
# Why private: Ray's exceptions and the GCS's death causes carry the cause as text alone: an
# actor whose `__init__` raised holds the remote traceback in its message, and no public
# attribute holds the user's exception. Ray colours task names (`ray::Class.method()`) for a
# terminal, whatever the output. Read as Ray 2.52 to 2.60 write them.

TERMINAL_CODE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")  # an ANSI control sequence, such as a colour
CREATION_FAILED = "The actor died because of an error raised in its creation task"
DEATH_CAUSE = "The actor is dead because"
FRAME = "  File "  # a frame's first line in a formatted Python traceback


def plain_text(text: str) -> str:
    """Ray's text without its terminal codes: `\\x1b[36mray::f()\\x1b[39m` reads `ray::f()`."""
    return TERMINAL_CODE.sub("", text)


def raised_line(traceback_text: str) -> str | None:
    """The first line of the exception a formatted Python traceback ends with (`RuntimeError: x`);
    None if the text has no frame."""
    lines = traceback_text.splitlines()
    frames = [index for index, line in enumerate(lines) if line.startswith(FRAME)]
    if not frames:
        return None
    return next((line.strip() for line in lines[frames[-1] + 1:] if line and not line[0].isspace()), None)


def actor_error_line(message: str) -> str:
    """One line on why a `RayActorError` ended its actor, from its message: the user's exception if
    the actor's `__init__` raised it, else Ray's `The actor is dead because …` line, else the first
    line ('' for none); without terminal codes."""
    text = plain_text(message).strip()
    lines = text.splitlines()
    if not lines:
        return ""
    if lines[0].startswith(CREATION_FAILED):
        return raised_line(text) or lines[0]
    return next((line for line in lines if line.startswith(DEATH_CAUSE)), lines[0])


def death_reason(cause) -> str:
    """One line for a GCS `ActorDeathCause` record ('' if it has none): the user's exception if the
    actor's `__init__` raised it, else the first line of Ray's message; without terminal codes."""
    context = cause.WhichOneof("context")
    if context is None:
        return ""
    details = getattr(cause, context)
    if context == "creation_task_failure_context":
        text = plain_text(details.formatted_exception_string)
        return raised_line(text) or "the actor's __init__ failed"
    lines = plain_text(details.error_message).strip().splitlines()
    return lines[0] if lines else context.removesuffix("_context").replace("_", " ")
