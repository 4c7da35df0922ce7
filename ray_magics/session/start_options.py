"""What `ray.init` is asked: the options of a start, the embedded Ray's object store, and what
a job brings to a cluster.

The embedded Ray's object store is sized to the memory this process may really use (its
cgroup's limit where lower than the machine's), so a 2 GB Binder container works, and it
lives in /tmp where /dev/shm is too small for it.

Tracked actors run `ray_magics.classes.counting` on the cluster's workers. Joining a cluster
at an address, the job's runtime environment ships this package as a `py_modules` entry
(Ray uploads it once per job), unless the user's runtime environment already brings it
(`pip`, `uv` or `py_modules`). The embedded Ray runs from this Python and needs nothing.
"""

import contextlib
import logging
import os
import re
import shutil
import tempfile
from pathlib import Path
from types import SimpleNamespace

from ..ray_internals import with_object_store_directory
from ..settings import start_settings

OBJECT_STORE_SHARE = 0.3
OBJECT_STORE_MINIMUM = 80 * 2**20
SHARED_MEMORY_DIR = "/dev/shm"  # noqa: S108 - only measured, never written
CGROUP_LIMIT_FILES = (
    "/sys/fs/cgroup/memory.max",  # cgroup v2
    "/sys/fs/cgroup/memory/memory.limit_in_bytes",  # cgroup v1
)
PACKAGE_NAME = "ray_magics"
PACKAGE_DIR = str(Path(__file__).resolve().parent.parent)  # the `ray_magics` directory itself
REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9._-]+)")


class StartOptions(SimpleNamespace):
    """What `%ray_init` and the extension's settings ask of Ray: a value for each setting that
    says how Ray starts (`settings.start_settings`: `address`, `num_cpus`, `connect_timeout`…,
    each the setting's default unless given), and the job's `runtime_env`."""

    def __init__(self, runtime_env: dict | None = None, **values):
        defaults = {name: trait.default() for name, trait in start_settings().items()}
        unknown = values.keys() - defaults.keys()
        if unknown:
            raise TypeError(f"not a start setting: {', '.join(sorted(unknown))}")
        super().__init__(**{**defaults, **values}, runtime_env=runtime_env or {})


def init_kwargs(options: StartOptions) -> dict:
    """Keyword arguments for `ray.init` that carry out `options`.

    With an address, the options that size a new local Ray do not apply, and the job's
    runtime environment ships ray_magics.
    """
    kwargs = {
        "namespace": options.namespace,
        "runtime_env": options.runtime_env or None,
        "logging_level": logging.ERROR,
        "log_to_driver": True,
    }
    if options.address:
        return {**kwargs, "address": options.address, "runtime_env": with_ray_magics(options.runtime_env)}
    store = options.object_store_memory or object_store_size()
    kwargs.update(
        num_cpus=options.num_cpus,
        num_gpus=options.num_gpus,
        object_store_memory=store,
        include_dashboard=options.dashboard,
        dashboard_host="127.0.0.1",
    )
    directory = plasma_directory(store)
    return with_object_store_directory(kwargs, directory) if directory else kwargs


def memory_limit() -> int:
    """Bytes of memory this process may use: the machine's, or its cgroup's if lower."""
    limit = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for path in CGROUP_LIMIT_FILES:
        with contextlib.suppress(OSError, ValueError):
            with open(path) as f:
                limit = min(limit, int(f.read().strip()))
    return limit


def object_store_size() -> int:
    """The embedded default's object store: a share of the memory this process may use."""
    return max(OBJECT_STORE_MINIMUM, int(memory_limit() * OBJECT_STORE_SHARE))


def plasma_directory(store_bytes: int) -> str | None:
    """Where the object store lives: /dev/shm unless it is too small (as on Binder)."""
    try:
        free = shutil.disk_usage(SHARED_MEMORY_DIR).free
    except OSError:
        return tempfile.gettempdir()
    return None if free >= store_bytes else tempfile.gettempdir()


def _requirement_names(installer) -> set[str]:
    """The normalised project names a `pip`/`uv` field lists (none for a requirements file's path)."""
    packages = installer.get("packages", []) if isinstance(installer, dict) else installer
    if not isinstance(packages, list):
        return set()
    names = (REQUIREMENT_NAME.match(str(package)) for package in packages)
    return {re.sub(r"[-_.]+", "-", name.group(1)).lower() for name in names if name}


def brings_ray_magics(runtime_env: dict) -> bool:
    """Whether `runtime_env` already puts ray_magics on the cluster's workers."""
    installed = any("ray-magics" in _requirement_names(runtime_env.get(field) or []) for field in ("pip", "uv"))
    modules = runtime_env.get("py_modules") or []
    shipped = any(
        getattr(module, "__name__", None) == PACKAGE_NAME or Path(str(module)).name == PACKAGE_NAME
        for module in modules
    )
    return installed or shipped


def with_ray_magics(runtime_env: dict) -> dict:
    """`runtime_env` with this package in its `py_modules`, unless it brings ray_magics already."""
    if brings_ray_magics(runtime_env):
        return runtime_env
    return {**runtime_env, "py_modules": [*(runtime_env.get("py_modules") or []), PACKAGE_DIR]}
