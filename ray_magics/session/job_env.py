"""ray_magics goes with the job, so a cluster's nodes need not have it installed.

Tracked actors run `ray_magics.classes.counting` on the cluster's workers. Joining a cluster
at an address, the job's runtime environment ships this package as a `py_modules` entry
(Ray uploads it once per job), unless the user's runtime environment already brings it
(`pip`, `uv` or `py_modules`). The embedded Ray runs from this Python and needs nothing.
"""

import re
from pathlib import Path

NAME = "ray_magics"
PACKAGE_DIR = str(Path(__file__).resolve().parent.parent)  # the `ray_magics` directory itself
REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9._-]+)")


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
    shipped = any(getattr(module, "__name__", None) == NAME or Path(str(module)).name == NAME for module in modules)
    return installed or shipped


def with_ray_magics(runtime_env: dict) -> dict:
    """`runtime_env` with this package in its `py_modules`, unless it brings ray_magics already."""
    if brings_ray_magics(runtime_env):
        return runtime_env
    return {**runtime_env, "py_modules": [*(runtime_env.get("py_modules") or []), PACKAGE_DIR]}
