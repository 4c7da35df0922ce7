"""Python processes the tests start: a clean environment, a Python without ray_magics, and
the facts a script reports on its lines that start with `REPORT ` (one JSON value each)."""

import json
import os
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

REPORT = "REPORT "


def clean_env(**extra: str) -> dict:
    """This process's environment without Ray's settings (`RAY_*`), plus `extra`."""
    return {**{name: value for name, value in os.environ.items() if not name.startswith("RAY_")}, **extra}


def reports(python, code: str, *args: str, env: dict | None = None, cwd=None, timeout: float = 300) -> list:
    """What `code` reports, run by `python` (by default away from this checkout: Ray gives a
    driver's workers its directory); the process must succeed."""
    result = subprocess.run([python, "-c", code, *args], env=clean_env() if env is None else env,
                            cwd=cwd or tempfile.gettempdir(), capture_output=True, text=True, timeout=timeout,
                            check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return [json.loads(line.removeprefix(REPORT)) for line in result.stdout.splitlines() if line.startswith(REPORT)]


def python_without_ray_magics(directory: Path) -> tuple[str, Path]:
    """A new virtual environment that reaches this one's packages (Ray, IPython…) but not ray_magics:
    its Python and its site-packages.

    The packages come in as a plain path in a `.pth` file, so the editable install of
    ray_magics, which needs its own `.pth` file run, stays out.
    """
    venv.EnvBuilder(with_pip=False).create(directory)
    [site] = (directory / "lib").glob("python3*/site-packages")
    here = next(path for path in sys.path if path.endswith("site-packages") and Path(path, "ray").is_dir())
    (site / "packages_from_here.pth").write_text(here + "\n")
    return str(directory / "bin" / "python"), site
