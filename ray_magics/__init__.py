"""IPython magics that make Ray actors first-class in notebooks.

`%load_ext ray_magics` registers `%%actor`, `%ray_init`, `%ray_status` and `%ray_shutdown`.
Ray itself is imported and started only when a magic first needs it.
"""

from .actor_classes import actor, calls, original

__all__ = ["actor", "calls", "original", "load_ipython_extension", "unload_ipython_extension"]


def load_ipython_extension(ipython):
    """Register the magics (`%load_ext ray_magics`); imports and starts nothing."""
    from .magics import RayMagics

    ipython.register_magics(RayMagics)


def unload_ipython_extension(ipython):
    """Remove the magics (`%unload_ext ray_magics`); Ray and its actors keep running."""
    from .magics import RayMagics

    magics = ipython.magics_manager.registry.pop(RayMagics.__name__, None)
    for kind, names in RayMagics.magics.items():
        for name in names:
            ipython.magics_manager.magics[kind].pop(name, None)
    if magics in ipython.configurables:
        ipython.configurables.remove(magics)
