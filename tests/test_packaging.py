"""The package as users get it: a wheel and an sdist built with the oldest setuptools the
build declares, installed into a fresh virtual environment and used from there."""

import re
import shutil
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

from .processes import python_without_ray_magics, reports

ROOT = Path(__file__).resolve().parent.parent
BUILD = """
import sys
from setuptools import build_meta
print("BUILT", getattr(build_meta, sys.argv[1])(sys.argv[2]))
"""
USE = """
import json, sys
from IPython.testing.globalipapp import start_ipython
from IPython.utils.capture import capture_output
ip = start_ipython()
ip.run_line_magic("load_ext", "ray_magics")
with capture_output() as made:
    ip.run_line_magic("ray_init", "--num-cpus 1")
    ip.run_cell_magic("actor", "", "class Greeter:\\n    def hello(self):\\n        return 'hi'\\n")
import ray, ray_magics
greeter = ip.user_ns["Greeter"].remote()
print("REPORT", json.dumps({
    "file": ray_magics.__file__, "version": ray_magics.__version__, "confirmation": made.stdout.splitlines()[-1],
    "hello": ray.get(greeter.hello.remote()), "calls": dict(ray_magics.calls(greeter)),
}))
with capture_output():
    ip.run_line_magic("ray_shutdown", "")
"""


def build_floor() -> str:
    """The oldest setuptools that `[build-system]` allows (`setuptools>=X`), pinned: `setuptools==X`."""
    floor = re.search(r'^requires = \["setuptools>=([0-9.]+)"\]', (ROOT / "pyproject.toml").read_text(), re.M)
    assert floor, "expected [build-system] requires = [\"setuptools>=X\"]"
    return f"setuptools=={floor.group(1)}"


def tracked_files(destination: Path) -> None:
    """The repository's tracked files, copied: what a clone holds, without a build's leftovers."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        if (ROOT / name).is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, destination / name)


def build(builder: Path, kind: str, source: Path, out: Path) -> Path:
    """Build `kind` (`build_sdist` or `build_wheel`) of `source` into `out` with the builder env's setuptools."""
    printed = subprocess.run([builder / "bin" / "python", "-c", BUILD, kind, out], cwd=source, capture_output=True,
                             text=True, check=True).stdout
    [name] = [line.removeprefix("BUILT ") for line in printed.splitlines() if line.startswith("BUILT ")]
    return out / name


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    """The sdist, built from a copy of the tracked files with the floor setuptools, and the wheel built
    from the sdist (as `python -m build` does)."""
    work = tmp_path_factory.mktemp("build")
    source, out, builder = work / "source", work / "dist", work / "builder"
    source.mkdir()
    tracked_files(source)
    venv.EnvBuilder(with_pip=True).create(builder)
    subprocess.run([builder / "bin" / "python", "-m", "pip", "install", "--quiet", build_floor()], check=True)
    sdist = build(builder, "build_sdist", source, out)
    with tarfile.open(sdist) as archive:
        archive.extractall(work / "unpacked", filter="data")
    [unpacked] = (work / "unpacked").iterdir()
    return build(builder, "build_wheel", unpacked, out), sdist


def test_the_wheel_and_the_sdist_carry_the_license_the_version_and_the_type_marker(built):
    wheel, sdist = built
    version = subprocess.run([sys.executable, "-c", "import ray_magics; print(ray_magics.__version__)"],
                             capture_output=True, text=True, check=True).stdout.strip()
    assert wheel.name == f"ray_magics-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(f"ray_magics-{version}.dist-info/METADATA").decode()
    assert f"ray_magics-{version}.dist-info/licenses/LICENSE" in names
    assert "ray_magics/py.typed" in names and "ray_magics/classes/counting.py" in names
    assert "License-Expression: Apache-2.0" in metadata and "Classifier: Typing :: Typed" in metadata
    assert f"Version: {version}" in metadata and "Project-URL: Source, " in metadata
    with tarfile.open(sdist) as archive:
        names = set(archive.getnames())
    assert {f"ray_magics-{version}/LICENSE", f"ray_magics-{version}/ray_magics/py.typed"} <= names


def test_the_installed_wheel_runs_the_magics_outside_the_checkout(built, tmp_path):
    """A fresh virtual environment gets the wheel; Ray, IPython and the rest come from this one."""
    wheel, _ = built
    python, site = python_without_ray_magics(tmp_path / "fresh")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", site, wheel],
                   check=True)
    [report] = reports(python, USE, cwd=tmp_path)
    assert Path(report["file"]).is_relative_to(site)
    assert report["confirmation"] == "Greeter → Ray actor (tracked)"
    assert (report["hello"], report["calls"]) == ("hi", {"hello": 1})
