"""Run a read that needs Ray's core worker where one exists.

A driver connected to the cluster (`auto`, `HOST:PORT`, the embedded Ray) has a core worker
and reads the GCS itself. Through Ray Client (`ray://HOST:PORT`) this process has none, so
the same read runs as a small task on the cluster (no CPU asked, so it runs even when every
CPU is taken) and sends back plain data.
"""

from ..ray_internals import through_client
from ..session.ray_import import import_ray

READ_TIMEOUT = 60.0  # seconds a read on the cluster may take before it counts as failed


def on_cluster(read, *args, timeout: float = READ_TIMEOUT):
    """`read(*args)`: here, or through Ray Client in a task on the cluster that has `timeout` seconds."""
    if not through_client():
        return read(*args)
    ray = import_ray()
    task = ray.remote(num_cpus=0)(read)
    return ray.get(task.remote(*args), timeout=timeout)
