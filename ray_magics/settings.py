"""The extension's settings, and the rules every value of theirs follows, written once.

`RaySettings` holds the traitlets that `%config RayMagics.<name> = ...` changes (the magics
inherit them). Those tagged `start` say how Ray starts: each is declared here alone, and
`%ray_init`'s flag of the same name and the start's field are made from it
(`start_settings`). The same rules check the matching magic flags and Python arguments:

- seconds (refresh interval, timeouts): a finite number > 0;
- the embedded Ray's size: CPUs ≥ 1 (with none, no actor could ever be placed and every
  call would hang), GPUs ≥ 0, object store bytes > 0;
- the dashboard link: "auto", or a `str.format` template whose fields are plain names
  (`{host}`, `{port}`, environment variables), as Dask's `distributed.dashboard.link` is.
"""

import math
import string

from traitlets import Bool, Enum, Float, Int, TraitError, Unicode, validate
from traitlets.config import Configurable

from .errors import InputError

LEAST = {"num_cpus": 1, "num_gpus": 0, "object_store_memory": 1, "max_print_lines": 1}  # per setting
AUTO_LINK = "auto"
ANY_RAY, NEW_LOCAL_RAY, AT_ADDRESS = "any", "local", "address"  # which start a `start` setting applies to


def positive_seconds(value, what: str) -> float:
    """`value` as seconds, checked to be a finite number > 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise InputError(f"{what} must be a number of seconds > 0, got {value!r}")
    return float(value)


def at_least(value: int, least: int, what: str) -> int:
    """`value`, checked to be a whole number ≥ `least`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise InputError(f"{what} must be a whole number ≥ {least}, got {value!r}")
    return value


def link_fields(template: str) -> set[str]:
    """The field names of a dashboard link template, checked to be plain names (`{port}`, not
    `{}`, `{0}` or `{port.real}`); which names are known is checked where the link is made."""
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as error:
        raise InputError(f"RayMagics.dashboard_link {template!r} is not a template: {error}") from None
    odd = sorted(name for name in fields if not name or name.isdigit() or any(c in name for c in ".["))
    if odd:
        raise InputError(f"RayMagics.dashboard_link {template!r}: a field must be a name such as {{port}}, "
                         f"got {{{odd[0]}}}")
    return fields


class RaySettings(Configurable):
    """The defaults of the embedded Ray that any magic starts when it needs Ray and finds
    none, the refresh interval of the live widgets, and how the summary links the dashboard."""

    address = Unicode(
        None, allow_none=True,
        help="Cluster to connect to instead of starting an embedded Ray ('auto', HOST:PORT, ray://HOST:PORT).",
    ).tag(config=True, start=AT_ADDRESS, metavar="ADDR")
    num_cpus = Int(None, allow_none=True, help="CPUs of the embedded Ray, ≥ 1 (all, if unset).").tag(
        config=True, start=NEW_LOCAL_RAY,
    )
    num_gpus = Int(None, allow_none=True, help="GPUs of the embedded Ray, ≥ 0 (all, if unset).").tag(
        config=True, start=NEW_LOCAL_RAY,
    )
    namespace = Unicode(None, allow_none=True, help="Ray namespace of this kernel's job.").tag(
        config=True, start=ANY_RAY, metavar="NS",
    )
    object_store_memory = Int(
        None, allow_none=True,
        help="Object store of the embedded Ray, in bytes (30% of the memory this process may use, if unset).",
    ).tag(config=True, start=NEW_LOCAL_RAY, bytes=True)
    dashboard = Bool(False, help="Start the embedded Ray with its dashboard (on 127.0.0.1).").tag(
        config=True, start=NEW_LOCAL_RAY, off_help="Start the embedded Ray without its dashboard.",
    )
    connect_timeout = Float(
        10.0, help="Seconds a cluster at an address has to answer.",
    ).tag(config=True, start=AT_ADDRESS, flag="timeout")
    refresh_interval = Float(0.5, help="Seconds between refreshes of live widgets (default of --interval).").tag(
        config=True
    )
    cancel_on_interrupt = Bool(
        True, help="The kernel's interrupt (Stop, Ctrl-C) cancels the actor calls the interrupted cell made "
        "that have not finished.",
    ).tag(config=True)
    prints_in_cells = Bool(
        True, help="What a tracked actor writes (print, stderr) shows in the cell that made the call; "
        "False: where Ray shows it, in the cell running when it arrives.",
    ).tag(config=True)
    max_print_lines = Int(
        1000, help="Lines of actors' output one cell shows, ≥ 1; the rest are counted in a '… N more lines' line.",
    ).tag(config=True)
    explain_waits = Bool(
        True, help="A cell that waits more than 2 s for an actor to be placed says why in one line: what the "
        "actor needs, what is free, and who holds the rest; replaced by how long it took once it is placed.",
    ).tag(config=True)
    on_rerun = Enum(
        ("keep", "kill"), "keep",
        help="What a cell that runs again does with the actors its earlier runs created: 'keep' them, "
        "as Ray does (%actors --stale lists them), or 'kill' them first, freeing what they hold.",
    ).tag(config=True)
    display = Enum(
        ("auto", "widgets", "text"), "auto",
        help="How the live views show: 'widgets' (ipywidgets), 'text' (a line, redrawn in place in a "
        "terminal), or 'auto': widgets inside a Jupyter kernel, text elsewhere.",
    ).tag(config=True)
    dashboard_link = Unicode(
        AUTO_LINK,
        help="The dashboard's link in %ray_init and %ray_status: 'auto' (through the Jupyter server's proxy "
        "where jupyter-server-proxy answers, else http://{host}:{port}), or a template with the fields "
        "{host}, {port} and environment variables, e.g. '{JUPYTERHUB_SERVICE_PREFIX}proxy/{port}/'.",
    ).tag(config=True)

    @validate(*LEAST)
    def _at_least(self, proposal):
        """Sizes follow `LEAST`; unset (None) means Ray's own choice."""
        name = proposal.trait.name
        if proposal.value is None:
            return None
        return self._checked(at_least, proposal.value, LEAST[name], f"RayMagics.{name}")

    @validate("refresh_interval", "connect_timeout")
    def _seconds(self, proposal):
        """Seconds follow `positive_seconds`."""
        return self._checked(positive_seconds, proposal.value, f"RayMagics.{proposal.trait.name}")

    @validate("dashboard_link")
    def _link(self, proposal):
        """A template's fields are plain names (`link_fields`)."""
        if proposal.value != AUTO_LINK:
            self._checked(link_fields, proposal.value)
        return proposal.value

    @staticmethod
    def _checked(rule, *args):
        try:
            return rule(*args)
        except InputError as error:
            raise TraitError(str(error)) from None


def start_settings() -> dict:
    """The settings that say how Ray starts, in order: name -> trait (its `start` metadata says
    which start it applies to, its `flag` the `%ray_init` flag where that is not `--name`)."""
    traits = RaySettings.class_traits(start=lambda applies: applies is not None)
    return {name: traits[name] for name in vars(RaySettings) if name in traits}


def start_flag(name: str) -> str:
    """The `%ray_init` flag of the start setting `name`: `--num-cpus` for `num_cpus`, `--timeout`
    for `connect_timeout`."""
    return "--" + RaySettings.class_traits()[name].metadata.get("flag", name).replace("_", "-")


_in_force: RaySettings | None = None  # the loaded extension's settings, handed down by `%load_ext`


def hand_down(settings: RaySettings | None) -> None:
    """Make `settings` (the magics', at `%load_ext`; None at `%unload_ext`) the ones in force."""
    global _in_force
    _in_force = settings


def in_force() -> RaySettings:
    """The settings in force where no magic hands its own down (the Python API: `ray_magics.progress`
    and the others): the loaded extension's (`%config RayMagics.<name>` changes them), else the defaults."""
    return _in_force if _in_force is not None else RaySettings()
