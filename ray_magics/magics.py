"""The IPython magics: they parse their line and delegate to the plain modules."""

import dataclasses

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments
from IPython.display import display
from traitlets import Bool, Float, Int, TraitError, Unicode, validate

from . import ray_session
from .actor_cell import make_cell_actors
from .cluster_state import read_cluster
from .cluster_summary import ClusterSummary
from .live_widgets import actor_method, progress, table
from .live_widgets import actors as list_actors
from .magic_options import (
    actor_option_arguments,
    actor_options,
    byte_size,
    check_wait,
    class_name,
    count,
    json_object,
    live_view_arguments,
    non_negative_number,
    parse_line,
    positive_number,
    resolve_name,
    switch,
)
from .refresher import RAY_GONE, REFRESHER

LOCAL_RAY_FLAGS = {
    "--num-cpus": "num_cpus",
    "--num-gpus": "num_gpus",
    "--object-store-memory": "object_store_memory",
    "--dashboard/--no-dashboard": "dashboard",
}


def show_live(view, args) -> None:
    """Display a live view; with --wait, block until it finishes (or --timeout)."""
    display(view)
    if args.wait:
        view.wait(args.timeout)


def cluster_summary(detailed: bool) -> ClusterSummary:
    return ClusterSummary(read_cluster(with_actors=detailed), detailed, embedded=ray_session.runs_embedded())


@magics_class
class RayMagics(Magics):
    """Ray actors in notebooks: `%%actor`, the session magics and the live widgets.

    The settings below are the defaults of the embedded Ray that any magic starts when it
    needs Ray and finds none, and the refresh interval of the live widgets; change them with
    `%config RayMagics.<name> = ...`.
    """

    address = Unicode(
        None, allow_none=True,
        help="Cluster to connect to instead of starting an embedded Ray ('auto', HOST:PORT, ray://HOST:PORT).",
    ).tag(config=True)
    num_cpus = Int(None, allow_none=True, help="CPUs of the embedded Ray (all, if unset).").tag(config=True)
    num_gpus = Int(None, allow_none=True, help="GPUs of the embedded Ray (all, if unset).").tag(config=True)
    object_store_memory = Int(
        None, allow_none=True,
        help="Object store bytes of the embedded Ray (30% of the memory this process may use, if unset).",
    ).tag(config=True)
    dashboard = Bool(False, help="Start the embedded Ray with its dashboard (on 127.0.0.1).").tag(config=True)
    namespace = Unicode(None, allow_none=True, help="Ray namespace of this kernel's job.").tag(config=True)
    refresh_interval = Float(0.5, help="Seconds between refreshes of live widgets (default of --interval).").tag(
        config=True
    )
    connect_timeout = Float(
        10.0, help="Seconds a cluster at an address has to answer (default of %ray_init --timeout).",
    ).tag(config=True)

    @validate("num_cpus", "num_gpus", "object_store_memory")
    def _non_negative(self, proposal):
        if proposal.value is not None and proposal.value < 0:
            raise TraitError(f"RayMagics.{proposal.trait.name} must be ≥ 0, not {proposal.value}")
        return proposal.value

    @validate("refresh_interval", "connect_timeout")
    def _positive(self, proposal):
        if not proposal.value > 0:
            raise TraitError(f"RayMagics.{proposal.trait.name} must be > 0, not {proposal.value}")
        return proposal.value

    def start_options(self) -> ray_session.StartOptions:
        """How the embedded default starts, from the settings."""
        return ray_session.StartOptions(
            address=self.address,
            num_cpus=self.num_cpus,
            num_gpus=self.num_gpus,
            namespace=self.namespace,
            object_store_memory=self.object_store_memory,
            dashboard=self.dashboard,
            connect_timeout=self.connect_timeout,
        )

    def ensure_ray(self) -> None:
        ray_session.ensure_running(self.start_options())

    @magic_arguments()
    @argument("--address", help="Cluster to connect to: auto, HOST:PORT or ray://HOST:PORT.")
    @argument("--num-cpus", type=count(1), help="CPUs of a new local Ray.")
    @argument("--num-gpus", type=count(0), help="GPUs of a new local Ray.")
    @argument("--namespace", help="Ray namespace of this kernel's job.")
    @argument("--object-store-memory", type=byte_size, help="Object store of a new local Ray (bytes, 2GB, 512MiB).")
    @argument("--runtime-env", type=json_object, help="Ray runtime environment for this job, as JSON.")
    @switch("dashboard", "Start the dashboard (on 127.0.0.1).", "Start without the dashboard.")
    @argument("--timeout", dest="connect_timeout", type=positive_number,
              help="Seconds the cluster at --address has to answer (RayMagics.connect_timeout).")
    @line_magic
    def ray_init(self, line):
        """Start an embedded local Ray, or connect to a cluster, and show a summary."""
        args = parse_line(self.ray_init, line, "%ray_init")
        local_only = [flag for flag, value in LOCAL_RAY_FLAGS.items() if getattr(args, value) is not None]
        if args.address and local_only:
            raise UsageError(f"%ray_init: {', '.join(local_only)} size a new local Ray, not a cluster at --address")
        if args.connect_timeout is not None and not (args.address or self.address):
            raise UsageError("%ray_init: --timeout limits the connect to a cluster at --address")
        if ray_session.is_running():
            print("Ray is already running in this kernel; %ray_shutdown first to start another.")
            return
        given = {name: value for name, value in vars(args).items() if value is not None}
        ray_session.start(dataclasses.replace(self.start_options(), **given))
        display(cluster_summary(detailed=False))

    @line_magic
    def ray_status(self, line):
        """The cluster at a glance: nodes, resources used and total, actors by state."""
        if line.strip():
            raise UsageError(f"%ray_status takes no options, got {line.strip()!r}")
        self.ensure_ray()
        display(cluster_summary(detailed=True))

    @line_magic
    def ray_shutdown(self, line):
        """Stop every live widget, then Ray (or disconnect from the cluster)."""
        if line.strip():
            raise UsageError(f"%ray_shutdown takes no options, got {line.strip()!r}")
        REFRESHER.stop_all(RAY_GONE)
        print("Ray shut down." if ray_session.shutdown() else "Ray is not running.")

    @magic_arguments()
    @argument(
        "classes", nargs="*", metavar="CLASS", type=class_name,
        help="Only these classes of the cell (default: all it defines).",
    )
    @actor_option_arguments
    @argument("--no-track", dest="track", action="store_false", help="Do not count method calls.")
    @cell_magic
    def actor(self, line, cell):
        """Run the cell, then turn the classes it defines into Ray actor classes.

        Each becomes what `@ray.remote(**options)` makes of it; with tracking (the default)
        its actors count the calls to their public methods: `ray_magics.calls(handle)`.
        The plain class stays reachable as `ray_magics.original(ActorClass)`.
        """
        __tracebackhide__ = True  # noqa: F841 - IPython hides this frame from tracebacks
        args = parse_line(self.actor, line, "%%actor")
        lines = make_cell_actors(
            self.shell, cell, args.classes, actor_options(args), args.track, self.ensure_ray
        )
        print("\n".join(lines))

    @magic_arguments()
    @argument("--all", action="store_true", help="Include dead actors (with their death cause).")
    @argument("--class", dest="class_name", metavar="NAME", help="Only the actors of this class.")
    @argument("--watch", action="store_true", help="Keep the table live, refreshed in the background.")
    @argument("--interval", type=non_negative_number, help="With --watch: seconds between refreshes.")
    @line_magic
    def actors(self, line):
        """The cluster's actors: id, class, name, state, pid, node, restarts, uptime, calls.

        Lists the actors of every job that are not dead (all of them with --all); tracked
        actors show their calls per method. Works with the dashboard off.
        """
        args = parse_line(self.actors, line, "%actors")
        if args.interval is not None and not args.watch:
            raise UsageError("%actors: --interval needs --watch")
        self.ensure_ray()
        interval = self.refresh_interval if args.interval is None and args.watch else args.interval
        try:
            view = list_actors(args.all, args.class_name, args.watch, interval)
        except (TypeError, ValueError) as error:
            raise UsageError(f"%actors: {error}") from None
        display(view)

    @magic_arguments()
    @argument("handle", metavar="HANDLE", help="The actor handle: a name or dotted attribute path, e.g. actors.one.")
    @argument("--method", default="get_progress", help="The method to poll (default: get_progress).")
    @argument("--description", help="Label shown before the bar.")
    @argument("--unit", help="What the counts count, e.g. samples.")
    @live_view_arguments
    @line_magic
    def actor_progress(self, line):
        """A live progress bar bound to an actor method.

        The method returns a fraction in [0, 1], a (done, total) pair, or a mapping with done,
        total and optional parts (name -> fraction or pair). The bar turns to success at 100%
        and to danger, with the reason, if the actor dies or the method fails.
        """
        args = parse_line(self.actor_progress, line, "%actor_progress")
        check_wait(args, "%actor_progress")
        handle = resolve_name(self.shell.user_ns, args.handle, "%actor_progress")
        try:
            view = progress(handle, args.method, args.interval, args.description, args.unit, timeout=args.timeout)
        except (TypeError, ValueError) as error:
            raise UsageError(f"%actor_progress: {error}") from None
        show_live(view, args)

    @magic_arguments()
    @argument("target", metavar="HANDLE.METHOD", help="The actor method to poll, e.g. sup.state.")
    @argument("--until", metavar="VALUE", help="Stop once every value (or every state/status cell) is VALUE.")
    @live_view_arguments
    @line_magic
    def actor_table(self, line):
        """A live table of what an actor method returns.

        A list shows a row per item, a dict a row per key, a list of dicts a column per key;
        state words (RUNNING, DONE, DEAD...) are coloured. The table turns red, with the
        reason, and stops if the actor dies or the method fails.
        """
        args = parse_line(self.actor_table, line, "%actor_table")
        check_wait(args, "%actor_table")
        handle_path, _, method = args.target.rpartition(".")
        if not handle_path or not method.isidentifier():
            raise UsageError(f"%actor_table: expected HANDLE.METHOD such as sup.state, got {args.target!r}")
        handle = resolve_name(self.shell.user_ns, handle_path, "%actor_table")
        try:
            view = table(actor_method(handle, method), args.interval, args.until, timeout=args.timeout,
                         label=args.target)
        except (TypeError, ValueError) as error:
            raise UsageError(f"%actor_table: {error}") from None
        show_live(view, args)
