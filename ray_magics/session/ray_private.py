"""Ray's private APIs that the session layer uses, each with why no public API serves."""

import sys


def refresh_ray_config() -> None:
    """Make this process's Ray see a changed `RAY_AUTH_MODE` (Ray caches its config when first read).

    No public API changes the mode of a process that imported Ray: Ray itself calls this
    when it turns token authentication on for a new local cluster.
    """
    if "ray" in sys.modules:
        from ray._raylet import Config

        Config.initialize("")
