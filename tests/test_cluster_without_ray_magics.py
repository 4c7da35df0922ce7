"""ray_magics goes with the job: a two-node cluster whose Python has Ray but not ray_magics runs
tracked actors joined through `%ray_init --address`, and a runtime environment that already
brings ray_magics is not given it twice."""

import json
import os
import subprocess
import sys
import tempfile
import venv

import pytest

from .local_cluster import LocalCluster

KERNEL = """
import json, sys
from IPython.testing.globalipapp import start_ipython
from IPython.utils.capture import capture_output
import ray, ray_magics
ip = start_ipython()
ip.run_line_magic("load_ext", "ray_magics")
with capture_output():
    ip.run_line_magic("ray_init", sys.argv[1])
    ip.run_cell_magic("actor", "--resources '" + json.dumps({"far": 1}) + "'", '''
class Where:
    def module(self):
        import sys
        return sys.modules["ray_magics"].__file__
''')
where = ip.user_ns["Where"].remote()
shipped = ray.get_runtime_context().runtime_env.get("py_modules", [])
print("REPORT", json.dumps({"file": ray.get(where.module.remote(), timeout=120), "calls": dict(ray_magics.calls(where)),
                            "py_modules": len(shipped)}))
ray.shutdown()
"""
NODES_LACK_IT = """
import importlib.util, json, sys, ray
ray.init(address=sys.argv[1], logging_level="ERROR")
@ray.remote(resources={"far": 1})
def has_ray_magics():
    return importlib.util.find_spec("ray_magics") is not None
print("REPORT", json.dumps(ray.get(has_ray_magics.remote(), timeout=120)))
"""


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory) -> str:
    """A Python with this environment's Ray (a plain path to its packages) but not ray_magics."""
    env = tmp_path_factory.mktemp("bare") / "env"
    venv.EnvBuilder(with_pip=False).create(env)
    [site] = (env / "lib").glob("python3*/site-packages")
    here = next(path for path in sys.path if path.endswith("site-packages") and os.path.isdir(f"{path}/ray"))
    (site / "ray_from_here.pth").write_text(here + "\n")  # a plain path: the editable install of ray_magics stays out
    return str(env / "bin" / "python")


@pytest.fixture(scope="module")
def cluster(bare_python):
    """A head and a worker node (resource `far`), both running the Python without ray_magics."""
    started = LocalCluster(token=False, python=bare_python)
    try:
        started.start_head()
        started.add_node("far", resources='{"far": 1}')
        yield started
    finally:
        started.stop()


def report(python: str, code: str, *args: str):
    """What `code` reports, run by `python` away from this checkout (Ray gives workers the driver's directory)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("RAY_")}
    result = subprocess.run([python, "-c", code, *args], env=env, cwd=tempfile.gettempdir(), capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    [line] = [line for line in result.stdout.splitlines() if line.startswith("REPORT ")]
    return json.loads(line.removeprefix("REPORT "))


def test_the_nodes_python_cannot_import_ray_magics(bare_python, cluster):
    assert report(bare_python, NODES_LACK_IT, cluster.address) is False


def test_tracked_actors_run_on_nodes_without_ray_magics(cluster):
    joined = report(sys.executable, KERNEL, f"--address {cluster.address}")
    assert "runtime_resources" in joined["file"]  # the copy the job brought, not an installed one
    assert (joined["calls"], joined["py_modules"]) == ({"module": 1}, 1)


def test_a_runtime_env_that_brings_ray_magics_is_not_doubled(cluster):
    package = os.path.dirname(__import__("ray_magics").__file__)
    brought = json.dumps({"py_modules": [package]})
    joined = report(sys.executable, KERNEL, f"--address {cluster.address} --runtime-env '{brought}'")
    assert (joined["calls"], joined["py_modules"]) == ({"module": 1}, 1)
