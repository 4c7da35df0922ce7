"""IPython magics that make Ray actors first-class in notebooks.

`%load_ext ray_magics` registers `%%actor`, `%ray_init`, `%ray_status`, `%ray_shutdown` and
the live widgets `%actor_progress`, `%actor_table` and `%actors`. Ray itself is imported and
started only when a magic first needs it, ipywidgets when a widget is first made.

The package is built in layers, each importing only from those before it:
`errors`, `settings` → `ray_internals` → `session` → `cluster` → `classes` → `cells` → `live`
→ `options`, `magics`.
Importing the package imports none of them: the names below load on first use, so a Ray
worker that unpickles a tracked actor needs Ray alone, never IPython or ipywidgets.
"""

import importlib

__version__ = "0.1.0"  # the one place the version is written (pyproject.toml reads it)

_API = {  # public name -> the module that defines it
    "actor": ".classes.actor_class",
    "original": ".classes.actor_class",
    "calls": ".classes.count_reader",
    "progress": ".live.api",
    "table": ".live.api",
    "actors": ".live.api",
    "kill": ".cells.ending_actors",
    "logs": ".cells.actor_logs",
}

__all__ = [*_API, "load_ipython_extension", "unload_ipython_extension"]


def __getattr__(name: str):
    if name not in _API:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_API[name], __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted({*globals(), *__all__})


def load_ipython_extension(ipython):
    """Register the magics, Stop's cancelling of the interrupted cell's actor calls, the remote
    tracebacks with the cells' lines and the actors' prints in the calling cell
    (`%load_ext ray_magics`); imports and starts nothing."""
    from .magics import RayMagics
    from .settings import hand_down

    magics = RayMagics(shell=ipython)
    ipython.register_magics(magics)
    hand_down(magics)
    for behaviour in magics.cell_behaviours:
        behaviour.register()
    ipython.observe(magics.stop_ray_on_exit, names="exit_now")


def unload_ipython_extension(ipython):
    """End the live widgets and remove the magics (`%unload_ext`); Ray and its actors keep running."""
    from .live.refresher import REFRESHER
    from .magics import RayMagics
    from .settings import hand_down

    REFRESHER.end_all("extension unloaded")
    hand_down(None)

    magics = ipython.magics_manager.registry.pop(RayMagics.__name__, None)
    if magics is not None:
        for behaviour in magics.cell_behaviours:
            behaviour.unregister()
        ipython.unobserve(magics.stop_ray_on_exit, names="exit_now")
    for kind, names in RayMagics.magics.items():
        for name in names:
            ipython.magics_manager.magics[kind].pop(name, None)
    if magics in ipython.configurables:
        ipython.configurables.remove(magics)
