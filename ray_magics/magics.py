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
from .live_widgets import progress
from .magic_options import (
    actor_option_arguments,
    actor_options,
    byte_size,
    count,
    json_object,
    non_negative_number,
    parse_line,
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


def cluster_summary(detailed: bool) -> ClusterSummary:
    return ClusterSummary(read_cluster(ray_session.import_ray(), with_actors=detailed), detailed)


@magics_class
class RayMagics(Magics):
    """Ray actors in notebooks: `%%actor`, `%ray_init`, `%ray_status`, `%ray_shutdown`, `%actor_progress`.

    The settings below are the defaults of the embedded Ray that any magic starts when it
    needs Ray and finds none; change them with `%config RayMagics.<name> = ...`.
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

    @validate("num_cpus", "num_gpus", "object_store_memory")
    def _non_negative(self, proposal):
        if proposal.value is not None and proposal.value < 0:
            raise TraitError(f"RayMagics.{proposal.trait.name} must be ≥ 0, not {proposal.value}")
        return proposal.value

    @validate("refresh_interval")
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
    @line_magic
    def ray_init(self, line):
        """Start an embedded local Ray, or connect to a cluster, and show a summary."""
        args = parse_line(self.ray_init, line, "%ray_init")
        local_only = [flag for flag, value in LOCAL_RAY_FLAGS.items() if getattr(args, value) is not None]
        if args.address and local_only:
            raise UsageError(f"%ray_init: {', '.join(local_only)} size a new local Ray, not a cluster at --address")
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
    @argument("classes", nargs="*", metavar="CLASS", help="Only these classes of the cell (default: all it defines).")
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
    @argument("handle", metavar="HANDLE", help="The actor handle: a name or dotted attribute path, e.g. actors.one.")
    @argument("--method", default="get_progress", help="The method to poll (default: get_progress).")
    @argument("--interval", type=non_negative_number, help="Seconds between polls (RayMagics.refresh_interval).")
    @argument("--description", help="Label shown before the bar.")
    @argument("--unit", help="What the counts count, e.g. samples.")
    @argument("--wait", action="store_true", help="Block the cell until the bar finishes (Ctrl-C stops waiting).")
    @argument("--timeout", type=non_negative_number, help="With --wait: wait at most this many seconds.")
    @line_magic
    def actor_progress(self, line):
        """A live progress bar bound to an actor method.

        The method returns a fraction in [0, 1], a (done, total) pair, or a mapping with done,
        total and optional parts (name -> fraction or pair). The bar turns to success at 100%
        and to danger, with the reason, if the actor dies or the method fails.
        """
        args = parse_line(self.actor_progress, line, "%actor_progress")
        if args.timeout is not None and not args.wait:
            raise UsageError("%actor_progress: --timeout needs --wait")
        handle = resolve_name(self.shell.user_ns, args.handle, "%actor_progress")
        interval = self.refresh_interval if args.interval is None else args.interval
        try:
            view = progress(handle, args.method, interval, args.description, args.unit, timeout=args.timeout)
        except (TypeError, ValueError) as error:
            raise UsageError(f"%actor_progress: {error}") from None
        display(view)
        if args.wait:
            view.wait(args.timeout)
