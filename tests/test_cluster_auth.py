"""Authentication follows the cluster: real clusters from `ray start`, one with a token and one
without, reached from fresh kernels that have a token or none. `RAY_AUTH_MODE` reaches the
processes a kernel starts only while the embedded Ray, which needs it, runs."""

import sys

import pytest

from .local_cluster import LocalCluster
from .processes import clean_env, reports

KERNEL = """
import json, os, subprocess, sys, time
from IPython.core.error import UsageError
from IPython.testing.globalipapp import start_ipython
from IPython.utils.capture import capture_output
import ray
ip = start_ipython()
ip.run_line_magic("load_ext", "ray_magics")

def child_mode():
    code = "import os; print(os.environ.get('RAY_AUTH_MODE'))"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip()

@ray.remote(num_cpus=0)
def task_mode():
    return os.environ.get("RAY_AUTH_MODE")

for line in sys.argv[1:]:
    started = time.monotonic()
    try:
        with capture_output():
            ip.run_line_magic("ray_init", line)
        outcome = "connected"
    except UsageError as error:
        outcome = str(error)
    report = {"outcome": outcome, "seconds": time.monotonic() - started, "child": child_mode(),
              "task": ray.get(task_mode.remote(), timeout=60) if ray.is_initialized() else None}
    with capture_output():
        ip.run_line_magic("ray_shutdown", "")
    report["child after"] = child_mode()
    print("REPORT", json.dumps(report), flush=True)
"""


@pytest.fixture(scope="module")
def clusters():
    """A one-node cluster with a token and one without, each stopped by its own process ids."""
    with_token, without = LocalCluster(token=True), LocalCluster(token=False)
    try:
        for cluster in (with_token, without):
            cluster.start_head()
        yield with_token, without
    finally:
        for cluster in (with_token, without):
            cluster.stop()


def kernel(tmp_path, *lines, token=None) -> list[dict]:
    """Run `%ray_init LINE` for each line in a fresh kernel whose home has no token (`token`: in its environment)."""
    env = clean_env(HOME=str(tmp_path), **({"RAY_AUTH_TOKEN": token} if token else {}))
    return reports(sys.executable, KERNEL, *lines, env=env, cwd=tmp_path)


def test_a_cluster_without_a_token_connects_and_the_embedded_ray_keeps_its_token_to_itself(clusters, tmp_path):
    _, without = clusters
    embedded, joined = kernel(tmp_path, "--num-cpus 1", f"--address {without.address}")
    assert embedded["outcome"] == joined["outcome"] == "connected"
    assert (embedded["task"], embedded["child"], embedded["child after"]) == ("token", "token", "None")
    assert (joined["task"], joined["child"], joined["child after"]) == ("disabled", "None", "None")


def test_a_cluster_with_a_token_connects_with_the_kernels_token(clusters, tmp_path):
    with_token, _ = clusters
    [joined] = kernel(tmp_path, f"--address {with_token.address}", token=with_token.env["RAY_AUTH_TOKEN"])
    assert joined["outcome"] == "connected"
    assert (joined["task"], joined["child after"]) == ("token", "None")


def test_a_cluster_with_a_token_refuses_a_kernel_without_one_in_one_line(clusters, tmp_path):
    with_token, _ = clusters
    [refused] = kernel(tmp_path, f"--address {with_token.address} --timeout 20")
    assert refused["outcome"].startswith(
        f"%ray_init: could not start {with_token.address}: "
        "Token authentication is enabled but no authentication token was found."
    )
    assert refused["seconds"] < 5  # told at once, not after the connect timeout
    assert (refused["task"], refused["child after"]) == (None, "None")
