"""The IPython magics: they parse their line and delegate to the layers below.

This is the one place where the package's errors (`errors.ONE_LINE_ERRORS`) become
IPython's one-line `UsageError`, named after the magic that met them.
"""

import dataclasses
import functools
import inspect

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments
from IPython.display import display

from .cells.prints import PrintRouting
from .cells.ray_client import RayClientAnnounces
from .cells.stop import StopCancelsCalls
from .cells.tracebacks import RemoteTracebacks
from .classes.cell import make_cell_actors
from .cluster.dashboard_link import check_template, dashboard_link
from .cluster.facts import read_cluster
from .cluster.handles import is_actor_handle
from .cluster.summary import ClusterSummary
from .errors import ONE_LINE_ERRORS, InputError, InputTypeError, single_line
from .options import (
    actor_option_arguments,
    actor_options,
    bar_arguments,
    byte_size,
    check_needs,
    class_name,
    json_object,
    live_view_arguments,
    local_ray_size,
    parse_line,
    resolve_name,
    seconds,
    switch,
)
from .session import lifecycle
from .settings import RaySettings

LOCAL_RAY_FLAGS = {
    "--num-cpus": "num_cpus",
    "--num-gpus": "num_gpus",
    "--object-store-memory": "object_store_memory",
    "--dashboard/--no-dashboard": "dashboard",
}


def live_api():
    """The live widgets' API (`live.api`), imported when a magic first needs it, not by `%load_ext`."""
    from .live import api

    return api


def one_line_errors(magic):
    """Show the package's errors raised by `magic` as one `UsageError` line that names it."""
    prefix = "%%" if "cell" in inspect.signature(magic).parameters else "%"
    name = prefix + magic.__name__

    @functools.wraps(magic)
    def run(*args, **kwargs):
        __tracebackhide__ = True  # noqa: F841 - IPython hides this frame from tracebacks
        try:
            return magic(*args, **kwargs)
        except ONE_LINE_ERRORS as error:
            raise UsageError(f"{name}: {single_line(str(error))}") from None

    return run


def no_options(line: str) -> None:
    if line.strip():
        raise InputError(f"takes no options, got {line.strip()!r}")


@magics_class
class RayMagics(Magics, RaySettings):
    """Ray actors in notebooks: `%%actor`, the session magics and the live widgets.

    The settings (`RaySettings`) are the defaults of the embedded Ray that any magic starts
    when it needs Ray and finds none, and the refresh interval of the live widgets; change
    them with `%config RayMagics.<name> = ...`.
    """

    def __init__(self, shell=None, **kwargs):
        super().__init__(shell=shell, **kwargs)
        # registered on the shell's cell events by `%load_ext`:
        self.cell_behaviours = (
            RayClientAnnounces(shell), StopCancelsCalls(shell), RemoteTracebacks(shell), PrintRouting(shell),
        )

    def start_options(self) -> lifecycle.StartOptions:
        """How the embedded default starts, from the settings."""
        return lifecycle.StartOptions(
            address=self.address,
            num_cpus=self.num_cpus,
            num_gpus=self.num_gpus,
            namespace=self.namespace,
            object_store_memory=self.object_store_memory,
            dashboard=self.dashboard,
            connect_timeout=self.connect_timeout,
        )

    def ensure_ray(self) -> None:
        lifecycle.ensure_running(self.start_options())

    def cluster_summary(self, detailed: bool) -> ClusterSummary:
        """The connected cluster's summary, its dashboard linked as `RayMagics.dashboard_link` says."""
        facts = read_cluster(with_actors=detailed)
        in_kernel = getattr(self.shell, "kernel", None) is not None
        link = dashboard_link(facts.dashboard_url, self.dashboard_link, in_kernel) if facts.dashboard_url else None
        return ClusterSummary(facts, detailed, embedded=lifecycle.runs_embedded(), dashboard=link)

    @magic_arguments()
    @argument("--address", help="Cluster to connect to: auto, HOST:PORT or ray://HOST:PORT.")
    @argument("--num-cpus", type=local_ray_size("num_cpus"), help="CPUs of a new local Ray.")
    @argument("--num-gpus", type=local_ray_size("num_gpus"), help="GPUs of a new local Ray.")
    @argument("--namespace", help="Ray namespace of this kernel's job.")
    @argument("--object-store-memory", type=byte_size, help="Object store of a new local Ray (bytes, 2GB, 512MiB).")
    @argument("--runtime-env", type=json_object, help="Ray runtime environment for this job, as JSON.")
    @switch("dashboard", "Start the dashboard (on 127.0.0.1).", "Start without the dashboard.")
    @argument("--timeout", dest="connect_timeout", type=seconds,
              help="Seconds the cluster at --address has to answer (RayMagics.connect_timeout).")
    @line_magic
    @one_line_errors
    def ray_init(self, line):
        """Start an embedded local Ray, or connect to a cluster, and show a summary."""
        args = parse_line(self.ray_init, line)
        local_only = [flag for flag, value in LOCAL_RAY_FLAGS.items() if getattr(args, value) is not None]
        if args.address and local_only:
            raise InputError(f"{', '.join(local_only)} size a new local Ray, not a cluster at --address")
        if args.connect_timeout is not None and not (args.address or self.address):
            raise InputError("--timeout limits the connect to a cluster at --address")
        check_template(self.dashboard_link)
        if lifecycle.is_running():
            print("Ray is already running in this kernel; %ray_shutdown first to start another.")
            return
        given = {name: value for name, value in vars(args).items() if value is not None}
        lifecycle.start(dataclasses.replace(self.start_options(), **given))
        display(self.cluster_summary(detailed=False))

    @line_magic
    @one_line_errors
    def ray_status(self, line):
        """The cluster at a glance: nodes, resources used and total, actors by state."""
        no_options(line)
        self.ensure_ray()
        display(self.cluster_summary(detailed=True))

    @line_magic
    @one_line_errors
    def ray_shutdown(self, line):
        """End every live widget, then stop Ray (or disconnect from the cluster)."""
        from .live.refresher import RAY_GONE, REFRESHER

        no_options(line)
        REFRESHER.end_all(RAY_GONE)
        print("Ray shut down." if lifecycle.shutdown() else "Ray is not running.")

    @magic_arguments()
    @argument(
        "classes", nargs="*", metavar="CLASS", type=class_name,
        help="Only these classes of the cell (default: all it defines).",
    )
    @actor_option_arguments
    @argument("--no-track", dest="track", action="store_false", help="Do not count method calls.")
    @cell_magic
    @one_line_errors
    def actor(self, line, cell):
        """Run the cell, then turn the classes it defines into Ray actor classes.

        Each becomes what `@ray.remote(**options)` makes of it; with tracking (the default)
        its actors count the calls to their public methods: `ray_magics.calls(handle)`.
        The plain class stays reachable as `ray_magics.original(ActorClass)`.
        """
        __tracebackhide__ = True  # noqa: F841 - IPython hides this frame from tracebacks
        args = parse_line(self.actor, line)
        lines = make_cell_actors(
            self.shell, cell, args.classes, actor_options(args), args.track, self.ensure_ray
        )
        print("\n".join(lines))

    @magic_arguments()
    @argument("--all", action="store_true", help="Include dead actors (with their death cause).")
    @argument("--class", dest="class_name", metavar="NAME", help="Only the actors of this class.")
    @argument("--watch", action="store_true", help="Keep the table live, refreshed in the background.")
    @argument("--interval", type=seconds, help="With --watch: seconds between refreshes.")
    @line_magic
    @one_line_errors
    def actors(self, line):
        """The cluster's actors: id, class, name, state, pid, node, restarts, uptime, calls.

        Lists the actors of every job that are not dead (all of them with --all); tracked
        actors show their calls per method. Works with the dashboard off.
        """
        args = parse_line(self.actors, line)
        check_needs(args, "interval", "watch")
        self.ensure_ray()
        display(live_api().actors(args.all, args.class_name, args.watch, args.interval))

    @magic_arguments()
    @argument("handle", metavar="HANDLE", help="The actor handle: a name or dotted attribute path, e.g. actors.one.")
    @argument("--method", default="get_progress", help="The method to poll (default: get_progress).")
    @bar_arguments
    @line_magic
    @one_line_errors
    def actor_progress(self, line):
        """A live progress bar bound to an actor method.

        The method returns a fraction in [0, 1], a (done, total) pair, or a mapping with done,
        total and optional parts (name -> fraction or pair). The bar turns to success at 100%
        and to danger, with the reason, if the actor dies or the method fails.
        """
        args = parse_line(self.actor_progress, line)
        check_needs(args, "timeout", "wait")
        handle = resolve_name(self.shell.user_ns, args.handle)
        live = live_api()
        live.check_ray_running()
        if not is_actor_handle(handle):
            if live.are_object_refs(handle):
                raise InputError(f"{args.handle} are ObjectRefs: use %refs_progress {args.handle}")
            raise InputTypeError(f"expected a Ray actor handle, got {type(handle).__name__}")
        live.progress(handle, args.method, args.interval, args.description, args.unit, args.wait, args.timeout,
                      show=display)

    @magic_arguments()
    @argument("refs", metavar="REFS", help="The ObjectRefs: a name or dotted attribute path, e.g. refs.")
    @bar_arguments
    @line_magic
    @one_line_errors
    def refs_progress(self, line):
        """A live progress bar over ObjectRefs (of tasks or actor calls): done is how many are ready.

        REFS names a list of refs, a dict of them (its values) or one ref. No value is fetched.
        The bar turns to danger with the first failure and a count of failed refs, and to
        success when every ref is done without one.
        """
        args = parse_line(self.refs_progress, line)
        check_needs(args, "timeout", "wait")
        refs = resolve_name(self.shell.user_ns, args.refs)
        live = live_api()
        live.check_ray_running()
        if is_actor_handle(refs):
            raise InputError(f"{args.refs} is an actor handle: use %actor_progress {args.refs}")
        live.refs_progress(refs, args.interval, args.description, args.unit, args.wait, args.timeout, show=display)

    @magic_arguments()
    @argument("target", metavar="HANDLE.METHOD", help="The actor method to poll, e.g. sup.state.")
    @argument("--until", metavar="VALUE", help="Stop once every value (or every state/status cell) is VALUE.")
    @live_view_arguments
    @line_magic
    @one_line_errors
    def actor_table(self, line):
        """A live table of what an actor method returns.

        A list shows a row per item, a dict a row per key, a list of dicts a column per key;
        state words (RUNNING, DONE, DEAD...) are coloured. The table turns red, with the
        reason, and stops if the actor dies or the method fails.
        """
        args = parse_line(self.actor_table, line)
        check_needs(args, "timeout", "wait")
        handle_path, _, method = args.target.rpartition(".")
        if not handle_path or not method.isidentifier():
            raise InputError(f"expected HANDLE.METHOD such as sup.state, got {args.target!r}")
        handle = resolve_name(self.shell.user_ns, handle_path)
        live = live_api()
        live.table(live.actor_method(handle, method), args.interval, args.until, args.wait, args.timeout,
                   label=args.target, show=display)
