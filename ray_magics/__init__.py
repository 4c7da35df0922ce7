"""IPython magics that make Ray actors first-class in notebooks.

`%load_ext ray_magics` registers `%%actor`, `%ray_init`, `%ray_status`, `%ray_shutdown` and
the live widgets `%actor_progress`, `%actor_table` and `%actors`. Ray itself is imported and
started only when a magic first needs it, ipywidgets when a widget is first made.
"""

from .actor_classes import actor, calls, original
from .live_widgets import actors, progress, table

__all__ = [
    "actor", "actors", "calls", "original", "progress", "table", "load_ipython_extension", "unload_ipython_extension",
]


def load_ipython_extension(ipython):
    """Register the magics (`%load_ext ray_magics`); imports and starts nothing."""
    from .magics import RayMagics

    ipython.register_magics(RayMagics)


def unload_ipython_extension(ipython):
    """Stop the live widgets and remove the magics (`%unload_ext`); Ray and its actors keep running."""
    from .magics import RayMagics
    from .refresher import REFRESHER

    REFRESHER.stop_all("extension unloaded")

    magics = ipython.magics_manager.registry.pop(RayMagics.__name__, None)
    for kind, names in RayMagics.magics.items():
        for name in names:
            ipython.magics_manager.magics[kind].pop(name, None)
    if magics in ipython.configurables:
        ipython.configurables.remove(magics)
