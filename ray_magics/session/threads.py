"""The threads ray_magics runs beside the kernel's, named in one place so that tests and tools find them."""

import threading

PREFIX = "ray_magics-"
IMPORT = PREFIX + "import"  # Ray's first import
RAY_HOST = PREFIX + "ray-host"  # `ray.init` and the life of the Ray it started
REFRESHER = PREFIX + "refresher"  # polls every live widget
COUNTS = PREFIX + "counts"  # shows the latest count of the lines a cell left out


def running(name: str) -> list[threading.Thread]:
    """The live threads called `name`."""
    return [thread for thread in threading.enumerate() if thread.name == name]
