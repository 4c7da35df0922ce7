"""The IPython magics: they parse their line and delegate to the layers below.

This is the one place where the package's errors (`errors.ONE_LINE_ERRORS`) become
IPython's one-line `UsageError`, named after the magic that met them, and where Ctrl-C in
a magic becomes one `KeyboardInterrupt` line.
"""

import functools
import inspect

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument
from IPython.display import display

from .cells.actor_logs import show_logs
from .cells.ending_actors import RerunEnds, end_stale
from .cells.origins import CellOrigins
from .cells.prints import PrintRouting
from .cells.ray_client import RayClientAnnounces
from .cells.stop import StopCancelsCalls
from .cells.tracebacks import RemoteTracebacks
from .cells.waits_explained import WaitsExplained
from .classes.cell import confirmation, make_cell_actors
from .cluster.actor_lookup import HEX
from .cluster.dashboard_link import check_template, dashboard_link
from .cluster.facts import read_cluster
from .cluster.handles import is_actor_handle
from .cluster.summary import ClusterSummary
from .errors import ONE_LINE_ERRORS, InputError, InputTypeError, single_line
from .options import (
    actor_option_arguments,
    actor_options,
    bar_arguments,
    check_needs,
    class_name,
    count,
    json_object,
    live_view_arguments,
    magic_options,
    parse_line,
    resolve_name,
    seconds,
    start_arguments,
)
from .session import lifecycle
from .session.start_options import StartOptions
from .session.waits import interrupted
from .settings import AT_ADDRESS, NEW_LOCAL_RAY, RaySettings, start_flag, start_settings

MISPLACED = {  # what a start flag given for the other kind of start says
    NEW_LOCAL_RAY: "{} sizes a new local Ray, not a cluster at --address",
    AT_ADDRESS: "{} applies to a cluster at --address only",
}


def live_api():
    """The live widgets' API (`live.api`), imported when a magic first needs it, not by `%load_ext`."""
    from .live import api

    return api


def one_line_errors(magic):
    """Show the package's errors raised by `magic` as one `UsageError` line that names it, and
    Ctrl-C in a line magic as one `KeyboardInterrupt` line.

    IPython draws an interrupt's traceback with the source of every frame: half a second the
    first time, seconds with the cores busy, before the cell ends. The frames of a line
    magic's wait on Ray say nothing that the line does not; a cell magic's keep the frames of
    the user's own code.
    """
    prefix = "%%" if "cell" in inspect.signature(magic).parameters else "%"
    name = prefix + magic.__name__

    @functools.wraps(magic)
    def run(*args, **kwargs):
        __tracebackhide__ = True  # noqa: F841 - IPython hides this frame from tracebacks
        try:
            return magic(*args, **kwargs)
        except ONE_LINE_ERRORS as error:
            raise UsageError(f"{name}: {single_line(str(error))}") from None
        except KeyboardInterrupt as stop:
            if prefix == "%%" or hasattr(stop, "_render_traceback_"):
                raise
            raise interrupted(f"{name} was interrupted") from None

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
        self.origins = CellOrigins(shell, self)  # which cell run created which actor
        self.waits = WaitsExplained(shell, self, self.origins)
        self.prints = PrintRouting(shell, self)  # also keeps what each actor wrote (`%actor_logs`)
        self.cell_behaviours = (
            RayClientAnnounces(shell, self), self.origins, RerunEnds(shell, self, self.origins),
            StopCancelsCalls(shell, self), RemoteTracebacks(shell, self), self.prints, self.waits,
        )

    def start_options(self, **given) -> StartOptions:
        """How Ray starts: the start settings, with the values `given` (a `%ray_init` line's) over them."""
        return StartOptions(**{**{name: getattr(self, name) for name in start_settings()}, **given})

    def interval(self, args) -> float:
        """A live view's seconds between polls: its `--interval`, else `RayMagics.refresh_interval`."""
        return self.refresh_interval if args.interval is None else args.interval

    def ensure_ray(self) -> None:
        lifecycle.ensure_running(self.start_options())

    def cluster_summary(self, detailed: bool) -> ClusterSummary:
        """The connected cluster's summary, its dashboard linked as `RayMagics.dashboard_link` says."""
        facts = read_cluster(with_actors=detailed)
        in_kernel = getattr(self.shell, "kernel", None) is not None
        link = dashboard_link(facts.dashboard_url, self.dashboard_link, in_kernel) if facts.dashboard_url else None
        return ClusterSummary(facts, detailed, embedded=lifecycle.runs_embedded(), dashboard=link)

    @magic_options()
    @start_arguments
    @argument("--runtime-env", type=json_object, help="Ray runtime environment for this job, as JSON.")
    @line_magic
    @one_line_errors
    def ray_init(self, line):
        """Start an embedded local Ray, or connect to a cluster, and show a summary.

        Examples
        --------
        ::

          In [1]: %ray_init --num-cpus 2
          In [2]: %ray_init --address ray://head.example.org:10001
        """
        given = {name: value for name, value in vars(parse_line(self.ray_init, line)).items() if value is not None}
        options = self.start_options(**given)
        other_kind = NEW_LOCAL_RAY if options.address else AT_ADDRESS
        misplaced = [start_flag(name) for name, trait in start_settings().items()
                     if name in given and trait.metadata["start"] == other_kind]
        if misplaced:
            raise InputError(MISPLACED[other_kind].format(", ".join(misplaced)))
        check_template(self.dashboard_link)
        if lifecycle.is_running():
            print("Ray is already running in this kernel; %ray_shutdown first to start another.")
            return
        lifecycle.start(options)
        display(self.cluster_summary(detailed=False))

    @line_magic
    @one_line_errors
    def ray_status(self, line):
        """The cluster at a glance: nodes, resources used and total, actors by state.

        Examples
        --------
        ::

          In [1]: %ray_status
        """
        no_options(line)
        self.ensure_ray()
        display(self.cluster_summary(detailed=True))

    @staticmethod
    def stop_ray() -> bool:
        """End every live widget, then stop Ray; False if it was not running."""
        from .live.refresher import RAY_GONE, REFRESHER

        REFRESHER.end_all(RAY_GONE)
        return lifecycle.shutdown()

    def stop_ray_on_exit(self, change) -> None:
        """Stop Ray as soon as the kernel is told to shut down or restart (the shell's `exit_now`).

        ipykernel then ends the kernel's child processes, Ray's among them, one signal after
        another for up to half a minute; the Jupyter server does not wait that long: it sends
        the kernel SIGTERM (Ray prints a crash stack), then SIGKILL, and the actors stay.
        """
        if change["new"]:
            self.stop_ray()

    @line_magic
    @one_line_errors
    def ray_shutdown(self, line):
        """End every live widget, then stop Ray (or disconnect from the cluster).

        Examples
        --------
        ::

          In [1]: %ray_shutdown
          Ray shut down.
        """
        no_options(line)
        print("Ray shut down." if self.stop_ray() else "Ray is not running.")

    @magic_options()
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

        Examples
        --------
        ::

          In [1]: %%actor --num-cpus 1
             ...: class Counter:
             ...:     def __init__(self):
             ...:         self.n = 0
             ...:     def add(self):
             ...:         self.n += 1
             ...:         return self.n
          Counter → Ray actor (num_cpus=1, tracked)

          In [2]: counter = Counter.remote(); ray.get(counter.add.remote())
          Out[2]: 1
        """
        __tracebackhide__ = True  # noqa: F841 - IPython hides this frame from tracebacks
        args = parse_line(self.actor, line)
        options = actor_options(args)
        made = make_cell_actors(self.shell, cell, args.classes, options, args.track, self.ensure_ray)
        self.origins.classes_made(made.values())
        if made:
            print("\n".join(confirmation(name, options, args.track) for name in made))

    @magic_options()
    @argument("--all", action="store_true", help="Include dead actors (with their death cause).")
    @argument("--class", dest="class_name", metavar="NAME", help="Only the actors of this class.")
    @argument("--watch", action="store_true", help="Keep the table live, refreshed in the background.")
    @argument("--interval", type=seconds, help="With --watch: seconds between refreshes.")
    @argument("--stale", action="store_true", help="Only the stale actors: those of cells that have run again.")
    @argument("--kill-stale", action="store_true", help="End the stale actors, and say what that frees.")
    @line_magic
    @one_line_errors
    def actors(self, line):
        """The cluster's actors: id, class, name, cell, state, pid, node, restarts, uptime, calls.

        Lists the actors of every job that are not dead (all of them with --all); tracked
        actors show their calls per method, and the cell run that created them (`In [3]`).
        An actor is stale once that cell, or the `%%actor` cell of its class, has run again:
        --stale lists only those, --kill-stale ends them. Works with the dashboard off.

        Examples
        --------
        ::

          In [1]: %actors
          In [2]: %actors --class Counter --watch --interval 1
          In [3]: %actors --all
          In [4]: %actors --kill-stale
          ended 2 stale actors (W ×2), freeing CPU 2
        """
        args = parse_line(self.actors, line)
        live = live_api()
        live.check_listing(args.class_name, args.watch, args.interval)
        if args.kill_stale and (args.all or args.watch or args.stale):
            raise InputError("--kill-stale takes only --class")
        self.ensure_ray()
        if args.kill_stale:
            print(end_stale(self.origins, args.class_name))
            return
        interval = self.interval(args) if args.watch else None
        display(live.actors(args.all, args.class_name, args.watch, interval, args.stale))

    @magic_options()
    @argument(
        "actor", metavar="ACTOR",
        help="The actor: its handle (a name or dotted attribute path), or 8 or more hex digits of its id.",
    )
    @argument("-n", type=count(0), default=50, help="How many of its last lines to show (default 50).")
    @argument("--follow", action="store_true", help="Then show its new lines as they come, until Stop or its end.")
    @line_magic
    @one_line_errors
    def actor_logs(self, line):
        """What a tracked actor wrote, stdout and stderr in order, each line after the cell it went to.

        Lines that went to no cell are there too (`no cell`). The last 1,000 lines of each actor
        are kept in the kernel, a dead actor's too. Works for actors on any node and through
        `ray://`.

        Examples
        --------
        ::

          In [1]: %actor_logs counter
          In [3]  adding 1
          In [4]  adding 2
          In [2]: %actor_logs 7980c003 -n 10 --follow
        """
        args = parse_line(self.actor_logs, line)
        target = args.actor
        if args.actor.split(".")[0] in self.shell.user_ns or not HEX.fullmatch(args.actor.lower()):
            target = resolve_name(self.shell.user_ns, args.actor)
            if not is_actor_handle(target):
                raise InputTypeError(f"{args.actor} is not an actor handle: it is {type(target).__name__}")
        lifecycle.check_running()
        show_logs(self.prints.logs, target, args.n, args.follow)

    @magic_options()
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

        Examples
        --------
        ::

          In [1]: %actor_progress sampler --unit samples
          In [2]: %actor_progress trainer --method progress --interval 1 --wait
        """
        args = parse_line(self.actor_progress, line)
        check_needs(args, "timeout", "wait")
        handle = resolve_name(self.shell.user_ns, args.handle)
        live = live_api()
        lifecycle.check_running()
        if not is_actor_handle(handle):
            if live.are_object_refs(handle):
                raise InputError(f"{args.handle} are ObjectRefs: use %refs_progress {args.handle}")
            raise InputTypeError(f"expected a Ray actor handle, got {type(handle).__name__}")
        if args.wait:
            self.waits.watch(handle)
        live.progress(handle, args.method, self.interval(args), args.description, args.unit, args.wait, args.timeout,
                      show=display)

    @magic_options()
    @argument("refs", metavar="REFS", help="The ObjectRefs: a name or dotted attribute path, e.g. refs.")
    @bar_arguments
    @line_magic
    @one_line_errors
    def refs_progress(self, line):
        """A live progress bar over ObjectRefs (of tasks or actor calls): done is how many are ready.

        REFS names a list of refs, a dict of them (its values) or one ref. No value is fetched.
        The bar turns to danger with the first failure and a count of failed refs, and to
        success when every ref is done without one.

        Examples
        --------
        ::

          In [1]: refs = [estimate.remote(seed) for seed in range(100)]
          In [2]: %refs_progress refs --description "π estimates"
        """
        args = parse_line(self.refs_progress, line)
        check_needs(args, "timeout", "wait")
        refs = resolve_name(self.shell.user_ns, args.refs)
        live = live_api()
        lifecycle.check_running()
        if is_actor_handle(refs):
            raise InputError(f"{args.refs} is an actor handle: use %actor_progress {args.refs}")
        live.refs_progress(refs, self.interval(args), args.description, args.unit, args.wait, args.timeout,
                           show=display)

    @magic_options()
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

        Examples
        --------
        ::

          In [1]: %actor_table supervisor.reports --until DONE
        """
        args = parse_line(self.actor_table, line)
        check_needs(args, "timeout", "wait")
        handle_path, _, method = args.target.rpartition(".")
        if not handle_path or not method.isidentifier():
            raise InputError(f"expected HANDLE.METHOD such as sup.state, got {args.target!r}")
        handle = resolve_name(self.shell.user_ns, handle_path)
        live = live_api()
        bound = live.actor_method(handle, method)
        if args.wait:
            self.waits.watch(handle)
        live.table(bound, self.interval(args), args.until, args.wait, args.timeout,
                   label=args.target, show=display)
