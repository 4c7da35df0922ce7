"""ray_magics goes with the job: a two-node cluster whose Python has Ray but not ray_magics runs
tracked actors joined through `%ray_init --address`, and a runtime environment that already
brings ray_magics is not given it twice."""

import json
import os
import sys

import pytest

from .local_cluster import LocalCluster
from .processes import python_without_ray_magics, reports

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
    """A Python with this environment's Ray but not ray_magics."""
    python, _ = python_without_ray_magics(tmp_path_factory.mktemp("bare") / "env")
    return python


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
    [reported] = reports(python, code, *args)
    return reported


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
