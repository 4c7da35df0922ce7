"""Loading, unloading and configuring the extension."""

import inspect
import subprocess
import sys
import textwrap
import threading

import pytest
from traitlets import TraitError

from ray_magics import ray_internals
from ray_magics.cells.origins import CellOrigins
from ray_magics.cells.prints import PrintRouting
from ray_magics.cells.ray_client import RayClientAnnounces
from ray_magics.cells.stop import StopCancelsCalls
from ray_magics.cells.tracebacks import RemoteTracebacks
from ray_magics.cells.waits_explained import WaitsExplained
from ray_magics.classes import submissions
from ray_magics.magics import RayMagics

MAGICS = {
    "line": {"ray_init", "ray_status", "ray_shutdown", "actor_progress", "refs_progress", "actors", "actor_table"},
    "cell": {"actor"},
}


def run_python(code: str, *args: str, timeout: float = 120) -> str:
    result = subprocess.run(
        [sys.executable, *args, "-c", textwrap.dedent(code).strip()],
        capture_output=True, text=True, timeout=timeout, check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_load_ext_registers_magics_without_importing_ray():
    out = run_python("""
        import sys, time
        from IPython.testing.globalipapp import start_ipython
        ip = start_ipython()
        start = time.perf_counter()
        ip.run_line_magic("load_ext", "ray_magics")
        elapsed = time.perf_counter() - start
        magics = ip.magics_manager.magics
        print("ray" in sys.modules, "actor" in magics["cell"], "ray_init" in magics["line"], elapsed < 1)
    """)
    assert out.split() == ["False", "True", "True", "True"]


def test_extension_loads_from_an_ipython_profile(tmp_path):
    (tmp_path / "ipython_config.py").write_text("c.InteractiveShellApp.extensions = ['ray_magics']\n")
    check = "import sys; print('actor' in get_ipython().magics_manager.magics['cell'], 'ray' in sys.modules)"
    out = run_python(check, "-m", "IPython", f"--profile-dir={tmp_path}", "--no-banner")
    assert out.split()[-2:] == ["True", "False"]


CELL_BEHAVIOURS = (RayClientAnnounces, StopCancelsCalls, RemoteTracebacks, PrintRouting, CellOrigins, WaitsExplained)


def cell_hooks(shell) -> list:
    """The cell-event callbacks of the cell behaviours, as registered on `shell`."""
    return [
        callback for event in ("pre_run_cell", "post_run_cell") for callback in shell.events.callbacks[event]
        if isinstance(getattr(callback, "__self__", None), CELL_BEHAVIOURS)
    ]


def patched_by_ray_magics() -> list[str]:
    """Ray's functions that ray_magics has wrapped, by name."""
    from ray._private.ray_logging import global_worker_stdstream_dispatcher as dispatcher
    from ray.util.client import common
    from ray.util.client.logsclient import LogstreamClient

    stubs = (common.ClientRemoteMethod, common.OptionWrapper, common.ClientActorClass, common.ActorOptionWrapper)
    wrapped = [f"{stub.__name__}.remote" for stub in stubs if hasattr(stub.remote, "_ray_magics_announces")]
    wrapped += [name for name, handler in dispatcher.handlers if hasattr(handler, "_ray_magics_printer")]
    client_printer = hasattr(LogstreamClient.stdstream, "_ray_magics_printer")
    return wrapped + (["LogstreamClient.stdstream"] if client_printer else [])


def test_unload_and_reload_leave_no_thread_no_magic_and_no_patch_of_rays(session_shell):
    before = set(threading.enumerate())
    session_shell.run_cell("pass")  # a cell with Ray imported: the remote tracebacks' handler is set
    assert session_shell.custom_exceptions
    ray_internals.announce_through_client(print, print, "marker")  # as the first cell through Ray Client does
    assert len(patched_by_ray_magics()) == 6  # Ray Client's 4 stubs, the driver's printer and Ray Client's
    session_shell.run_line_magic("unload_ext", "ray_magics")
    assert patched_by_ray_magics() == []
    magics = session_shell.magics_manager.magics
    assert not MAGICS["line"] & set(magics["line"])
    assert not MAGICS["cell"] & set(magics["cell"])
    assert not [c for c in session_shell.configurables if isinstance(c, RayMagics)]
    assert not cell_hooks(session_shell) and not submissions._listeners and not submissions._creation_listeners
    assert session_shell.custom_exceptions == ()  # the remote tracebacks' handler went too
    session_shell.run_line_magic("load_ext", "ray_magics")
    session_shell.run_line_magic("reload_ext", "ray_magics")
    assert MAGICS["line"] <= set(magics["line"]) and MAGICS["cell"] <= set(magics["cell"])
    assert len([c for c in session_shell.configurables if isinstance(c, RayMagics)]) == 1
    # one of each, not doubled: Stop's, the prints', the origins' and the waits' start and end of a cell, the
    # tracebacks' and Ray Client's start; the calls heard by Stop and the prints; the creations by the prints,
    # the origins and the waits
    assert len(cell_hooks(session_shell)) == 10 and len(submissions._listeners) == 2
    assert len(submissions._creation_listeners) == 3
    assert set(threading.enumerate()) == before


def test_settings_are_configurable_traits(ip):
    ip.run_line_magic("config", "RayMagics.num_cpus = 3")
    ip.run_line_magic("config", "RayMagics.dashboard = True")
    magics = ip.magics_manager.registry["RayMagics"]
    try:
        options = magics.start_options()
        assert (options.num_cpus, options.dashboard) == (3, True)
        with pytest.raises(TraitError, match="num_cpus must be a whole number ≥ 1, got 0"):
            magics.num_cpus = 0  # the rule of --num-cpus too: a Ray without CPUs could place no actor
        with pytest.raises(TraitError, match="num_gpus must be a whole number ≥ 0, got -1"):
            magics.num_gpus = -1
    finally:
        magics.num_cpus = None
        magics.dashboard = False


@pytest.mark.parametrize("name", sorted(MAGICS["line"] | MAGICS["cell"]))
def test_each_magics_help_teaches_with_an_example(ip, name):
    kind = "cell" if name in MAGICS["cell"] else "line"
    help_text = inspect.cleandoc(ip.magics_manager.magics[kind][name].__doc__)
    example = help_text.split("Examples\n--------\n", 1)[1]
    prompt = "%%" if kind == "cell" else "%"
    assert f"In [1]: {prompt}{name}" in example or f"{prompt}{name} " in example
