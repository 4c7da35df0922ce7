"""The Ray session magics and the embedded default Ray."""

import json
import re
import subprocess
import sys
import tempfile
import textwrap

import ray
from IPython.utils.capture import capture_output

from ray_magics.cluster.facts import read_cluster
from ray_magics.cluster.summary import ClusterSummary
from ray_magics.session import start_options

from .conftest import wait_for

EMBEDDED_DEFAULT_SCRIPT = """
import json
from IPython.testing.globalipapp import start_ipython
from IPython.utils.capture import capture_output
ip = start_ipython()
ip.run_line_magic("load_ext", "ray_magics")
report = {}
ECHO = "class Echo:\\n    def echo(self, x):\\n        print('from actor', x)\\n        return x\\n"
with capture_output() as first:
    ip.run_cell_magic("actor", "", ECHO)
    ip.run_cell("import ray; echo = Echo.remote(); answer = ray.get(echo.echo.remote(42))")
import ray
from ray._raylet import AuthenticationMode, get_authentication_mode
from ray._private.worker import get_dashboard_url
report["first_output"] = first.stdout + first.stderr
report["answer"] = ip.user_ns["answer"]
report["token_auth"] = get_authentication_mode() == AuthenticationMode.TOKEN
report["dashboard_off"] = get_dashboard_url() in ("", None)
with capture_output() as again:
    ip.run_line_magic("ray_init", "")
report["again"] = again.stdout
with capture_output() as down:
    ip.run_line_magic("ray_shutdown", "")
    ip.run_line_magic("ray_shutdown", "")
report["down"] = down.stdout
with capture_output() as dashboard:
    ip.run_line_magic("ray_init", "--dashboard --num-cpus 1")
report["dashboard_summary"] = dashboard.outputs[0].data["text/plain"]
report["dashboard_url"] = get_dashboard_url()
ip.run_line_magic("ray_shutdown", "")
print(json.dumps(report))
"""


def test_embedded_default_starts_on_demand_quietly_with_token_auth():
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(EMBEDDED_DEFAULT_SCRIPT)],
        capture_output=True, text=True, timeout=240, check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    # the actor's print shows in the cell that made the call, in terminal IPython too
    assert re.fullmatch(r"Echo → Ray actor \(tracked\)\n\(Echo pid=\d+\) from actor 42\n", report["first_output"])
    assert report["answer"] == 42
    assert report["token_auth"] is True
    assert report["dashboard_off"] is True
    assert report["again"] == "Ray is already running in this kernel; %ray_shutdown first to start another.\n"
    assert report["down"] == "Ray shut down.\nRay is not running.\n"
    assert report["dashboard_url"].startswith("127.0.0.1:")
    assert f"dashboard     http://{report['dashboard_url']}" in report["dashboard_summary"]
    for chatter in ("Started a local Ray instance", "Token authentication", "WARNING"):
        assert chatter not in result.stdout + result.stderr


def test_ray_init_when_running_says_so_in_one_line(ip):
    with capture_output() as out:
        ip.run_line_magic("ray_init", "--num-cpus 1")
    assert out.stdout == "Ray is already running in this kernel; %ray_shutdown first to start another.\n"
    assert ray.cluster_resources()["CPU"] == 2


def test_ray_status_shows_nodes_resources_and_actors(ip):
    with capture_output():
        ip.run_cell_magic("actor", "--num-cpus 1", "class Holder:\n    pass\n")
    holder = ip.user_ns["Holder"].remote()
    ray.get(holder.__ray_ready__.remote())
    # The GCS learns of a raylet's used resources from its next report, a moment after the actor starts.
    wait_for(lambda: ray.available_resources().get("CPU") == 1, what="the GCS to see the held CPU")
    with capture_output() as out:
        ip.run_line_magic("ray_status", "")
    [shown] = out.outputs
    text = shown.data["text/plain"]
    rows = dict(line.split("  ", 1) for line in text.splitlines())
    assert rows["Ray"].strip() == ray.__version__
    assert rows["nodes"].strip() == "1 alive"
    assert rows["CPUs"].strip() == "1 used of 2"
    assert rows["object store"].strip().startswith("0 B used of ")
    assert "1 ALIVE" in rows["actors"]
    [node] = [value for label, value in rows.items() if label.startswith("node ")]
    assert node.strip().endswith("ALIVE, CPU 1/2")
    ray.kill(holder)


def test_summary_html_is_escaped_and_links_the_dashboard(ip):
    facts = read_cluster()
    facts.ray_version = "<script>alert(1)</script>"
    facts.dashboard_url = "127.0.0.1:8265"
    html = ClusterSummary(facts, detailed=True)._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<a href='http://127.0.0.1:8265' target='_blank' rel='noopener'>" in html


def test_object_store_fits_the_memory_and_falls_back_from_a_small_dev_shm():
    limit = start_options.memory_limit()
    assert start_options.OBJECT_STORE_MINIMUM <= start_options.object_store_size() <= limit
    assert start_options.plasma_directory(store_bytes=1) is None
    assert start_options.plasma_directory(store_bytes=2**60) == tempfile.gettempdir()
