"""The dashboard's link in `%ray_init` and `%ray_status`: through the Jupyter server's proxy where
jupyter-server-proxy answers, else direct with a note, or the `RayMagics.dashboard_link` template.

Two real Jupyter servers, one with jupyter-server-proxy and one with it turned off, each start a
real kernel through their REST API; the first kernel's embedded Ray has its dashboard on, the
second kernel joins that Ray, so one dashboard serves every case.
"""

import contextlib
import importlib.util
import re
from html import escape
from pathlib import Path

import pytest
from jupyter_client import BlockingKernelClient
from traitlets import TraitError

from ray_magics.cluster.dashboard_link import NO_ANSWER, NO_SERVER, DashboardLink, dashboard_link, formatted
from ray_magics.cluster.facts import ClusterFacts
from ray_magics.cluster.summary import ClusterSummary
from ray_magics.errors import InputError
from ray_magics.settings import RaySettings, link_fields

from .jupyter_server import JupyterServer
from .kernel_driver import KERNEL_START_SECONDS, Kernel

BASE_URL = "/user/ray-magics/"  # as JupyterHub serves a user's server
NO_PROXY = ["--ServerApp.jpserver_extensions=jupyter_server_proxy=False"]
HUB_PREFIX = "/user/hub-prefix/"
SUMMARY_HTML = "print(get_ipython().magics_manager.registry['RayMagics'].cluster_summary(False)._repr_html_())"


class ServerKernel(Kernel):
    """A kernel that a Jupyter server started, driven through its connection file."""

    def __init__(self, connection_file: Path):  # the server, not this process, owns the kernel
        self.client = BlockingKernelClient(connection_file=str(connection_file))
        self.client.load_connection_file()
        # No heartbeat: a kernel still importing misses the first ones, and the wait would take it
        # for dead. It answers kernel_info once it runs, and a dead one runs out the timeout.
        self.client.start_channels(hb=False)
        self.client.wait_for_ready(timeout=KERNEL_START_SECONDS)

    def summary_rows(self, magic: str) -> dict[str, str]:
        """The summary rows that `magic` (`%ray_init ...`, `%ray_status`) shows."""
        [shown] = self.check(magic).displays
        return {label: value.strip() for label, value in (line.split("  ", 1) for line in shown.splitlines())}

    def close(self) -> None:
        self.client.stop_channels()


@contextlib.contextmanager
def kernel_of(server: JupyterServer):
    """A kernel that `server` starts; the server stops after it, even if the kernel never answers."""
    try:
        kernel = ServerKernel(server.start_kernel())
        try:
            yield kernel
        finally:
            kernel.close()
    finally:
        server.stop()


def needs_jupyter_server_proxy() -> None:
    if importlib.util.find_spec("jupyter_server_proxy") is None:
        pytest.fail("jupyter-server-proxy is not installed: the test extra brings it (pip install -e '.[test]')")


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    """A server with jupyter-server-proxy, under a base URL; its kernel's Ray has the dashboard on."""
    needs_jupyter_server_proxy()
    server = JupyterServer(tmp_path_factory.mktemp("proxied"), base_url=BASE_URL)
    with kernel_of(server) as kernel:
        kernel.check("%load_ext ray_magics")
        rows = kernel.summary_rows("%ray_init --dashboard --num-cpus 1")
        kernel.check("import ray; from ray._private.worker import get_dashboard_url")
        yield server, kernel, rows, *kernel.value("(get_dashboard_url(), ray.get_runtime_context().gcs_address)")
        kernel.check("%ray_shutdown")


@pytest.fixture(scope="module")
def unproxied(proxied, tmp_path_factory):
    """A server with jupyter-server-proxy turned off; its kernel joins the first kernel's Ray."""
    *_, gcs_address = proxied
    server = JupyterServer(tmp_path_factory.mktemp("unproxied"), *NO_PROXY)
    with kernel_of(server) as kernel:
        kernel.check("%load_ext ray_magics")
        yield server, kernel, kernel.summary_rows(f"%ray_init --address {gcs_address}")
        kernel.check("%ray_shutdown")


def test_the_link_goes_through_the_jupyter_servers_proxy_and_reaches_the_dashboard(proxied):
    server, kernel, rows, dashboard, _ = proxied
    port = dashboard.rpartition(":")[2]
    link = f"{BASE_URL}proxy/{port}/"
    assert rows["dashboard"] == link
    assert kernel.summary_rows("%ray_status")["dashboard"] == link
    assert f"<a href='{link}' target='_blank' rel='noopener'>{link}</a>" in kernel.check(SUMMARY_HTML).stdout
    status, headers, page = server.request("GET", link)  # as a browser on the server's page resolves it
    assert status == 200 and b"<title>Ray Dashboard</title>" in page, (status, headers)


def test_jupyterhubs_service_prefix_is_the_links_base(proxied):
    _, kernel, _, dashboard, _ = proxied
    kernel.check(f"import os; os.environ['JUPYTERHUB_SERVICE_PREFIX'] = {HUB_PREFIX!r}")
    try:
        shown = kernel.summary_rows("%ray_status")["dashboard"]
    finally:
        kernel.check("del os.environ['JUPYTERHUB_SERVICE_PREFIX']")
    assert shown == f"{HUB_PREFIX}proxy/{dashboard.rpartition(':')[2]}/"


def test_without_the_proxy_the_link_is_direct_with_a_one_line_note(proxied, unproxied):
    dashboard = proxied[3]
    server, kernel, rows = unproxied
    assert server.request("GET", f"/proxy/{dashboard.rpartition(':')[2]}/")[0] == 404
    assert rows["dashboard"] == f"http://{dashboard} ({NO_ANSWER})"
    anchor = f"<a href='http://{dashboard}' target='_blank' rel='noopener'>http://{dashboard}</a>"
    assert f"{anchor} ({escape(NO_ANSWER)})" in kernel.check(SUMMARY_HTML).stdout


def test_a_template_is_used_as_given_and_a_bad_one_is_one_usage_error_line(proxied, unproxied):
    dashboard = proxied[3]
    _, kernel, _ = unproxied
    kernel.check('%config RayMagics.dashboard_link = "http://example/{port}"')
    try:
        assert kernel.summary_rows("%ray_status")["dashboard"] == f"http://example/{dashboard.rpartition(':')[2]}"
        kernel.check('%config RayMagics.dashboard_link = "http://example/{nope}"')
        failed = kernel.run("%ray_status")
        refused_start = kernel.run("%ray_init")  # refused before it would start (or report) a Ray
    finally:
        kernel.check('%config RayMagics.dashboard_link = "auto"')
    assert failed.stderr == (  # how a kernel shows a UsageError: one line, no traceback
        "UsageError: %ray_status: RayMagics.dashboard_link 'http://example/{nope}' has an unknown field {nope} "
        "(known: {host}, {port} and the environment variables)\n"
    )
    assert not failed.displays
    assert refused_start.stderr == failed.stderr.replace("%ray_status", "%ray_init")
    assert not refused_start.displays and not refused_start.stdout


def test_a_template_fills_host_port_and_environment_variables(monkeypatch):
    monkeypatch.setenv("RAY_MAGICS_TEST_PREFIX", "/user/x/")
    assert formatted("{RAY_MAGICS_TEST_PREFIX}proxy/{port}/", "127.0.0.1", 8265) == "/user/x/proxy/8265/"
    assert formatted("https://{host}:{port:d}/#/actors", "10.0.0.2", 8265) == "https://10.0.0.2:8265/#/actors"
    with pytest.raises(InputError, match=r"unknown field \{RAY_MAGICS_NOT_SET\}"):
        formatted("{RAY_MAGICS_NOT_SET}proxy/{port}/", "127.0.0.1", 8265)
    with pytest.raises(InputError, match="Unknown format code"):
        formatted("{host:d}", "127.0.0.1", 8265)


@pytest.mark.parametrize(("template", "wrong"), [
    ("http://x/{port", "is not a template"), ("http://x/{}", "got {}"), ("{0}", "got {0}"),
    ("{port.real}", "got {port.real}"), ("{host[0]}", "got {host[0]}"),
])
def test_a_template_names_its_fields(template, wrong):
    with pytest.raises(InputError, match=re.escape(wrong)):
        link_fields(template)


def test_the_setting_refuses_a_template_whose_fields_are_not_names():
    settings = RaySettings()
    assert settings.dashboard_link == "auto"
    with pytest.raises(TraitError, match=r"a field must be a name such as \{port\}, got \{0\}"):
        settings.dashboard_link = "http://x/{0}"
    settings.dashboard_link = "http://x/{host}:{port}/{JUPYTERHUB_USER}"  # known fields are checked where used


def test_auto_is_direct_outside_a_kernel_and_says_so_in_a_kernel_no_server_runs(monkeypatch, tmp_path):
    needs_jupyter_server_proxy()
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path))
    assert dashboard_link("127.0.0.1:8265", "auto", in_kernel=False) == DashboardLink("http://127.0.0.1:8265")
    assert dashboard_link("127.0.0.1:8265", "auto", in_kernel=True) == DashboardLink("http://127.0.0.1:8265", NO_SERVER)


@pytest.mark.parametrize(("url", "linked"), [
    ("/user/x/proxy/8265/", True), ("http://127.0.0.1:8265", True), ("https://ray.example/", True),
    ("javascript:alert(1)", False), ("x' onmouseover='alert(1)", False),
])
def test_the_summary_links_web_addresses_and_server_paths_only(url, linked):
    facts = ClusterFacts(ray_version="2", gcs_address="127.0.0.1:6379", dashboard_url="127.0.0.1:8265", nodes=[])
    html = ClusterSummary(facts, detailed=False, dashboard=DashboardLink(url, "a <note>"))._repr_html_()
    if linked:
        anchor = f"<a href='{escape(url, quote=True)}' target='_blank' rel='noopener'>{escape(url)}</a>"
        assert f"{anchor} (a &lt;note&gt;)</td>" in html
    else:
        assert "<a " not in html and f"<td style='text-align:left'>{escape(url)} (a &lt;note&gt;)</td>" in html
