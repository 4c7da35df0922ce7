"""Security: the token is the lock on the embedded Ray, and nothing a user types or an actor
returns runs as code (in the kernel or in the page)."""

import json
import re
import shlex
import stat
import subprocess
import sys
import textwrap
import urllib.error
import urllib.request
from html.parser import HTMLParser

import grpc
import ipywidgets as widgets
import psutil
import pytest
import ray
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output
from ray._raylet import AuthenticationTokenLoader
from ray.core.generated import gcs_service_pb2, gcs_service_pb2_grpc

import ray_magics
from ray_magics.cluster.facts import read_cluster
from ray_magics.cluster.summary import ClusterSummary
from ray_magics.live.refresher import REFRESHER

from .conftest import wait_for
from .processes import clean_env, reports

WRONG_TOKEN = "0" * 32
REFUSED = "InvalidAuthToken: Authentication token is missing or incorrect"

CONNECTING_CLIENT = """
import sys
import ray
try:
    ray.init(address=sys.argv[1])
except Exception as error:
    causes = []
    while error is not None:
        causes.append(str(error).replace("\\n", " "))
        error = error.__cause__
    print("refused:", " | ".join(causes))
else:
    print("connected:", ray.cluster_resources()["CPU"])
"""

DASHBOARD_KERNEL = r"""
import json, sys
from IPython.testing.globalipapp import start_ipython
from IPython.utils.capture import capture_output
ip = start_ipython()
ip.run_line_magic("load_ext", "ray_magics")
ip.user_ns.update(env_vars="expanded", A="expanded")
with capture_output():
    ip.run_cell("%ray_init --dashboard --num-cpus 1 --runtime-env '{\"env_vars\": {\"A\": \"1\"}}'")
import ray
from ray._private.worker import get_dashboard_url
runtime_env = ray.get_runtime_context().runtime_env
print(json.dumps({"dashboard": get_dashboard_url(), "env_vars": runtime_env.get("env_vars")}), flush=True)
sys.stdin.read()
ip.run_line_magic("ray_shutdown", "")
"""


def session_token() -> str:
    """The token of the embedded Ray this test session runs (the `Bearer` value)."""
    return AuthenticationTokenLoader.instance().get_token_for_http_header()["authorization"].removeprefix("Bearer ")


def env_without_ray(home) -> dict:
    """This process's environment without any `RAY_*` setting, and `HOME` at `home`."""
    return clean_env(HOME=str(home))


def gcs_node_count(metadata) -> int:
    """Ask the session's GCS for its nodes over raw gRPC, sending `metadata`."""
    with grpc.insecure_channel(ray.get_runtime_context().gcs_address) as channel:
        stub = gcs_service_pb2_grpc.NodeInfoGcsServiceStub(channel)
        reply = stub.GetAllNodeInfo(gcs_service_pb2.GetAllNodeInfoRequest(), metadata=metadata, timeout=10)
    return len(reply.node_info_list)


@pytest.mark.parametrize(
    "metadata", [(), (("authorization", f"Bearer {WRONG_TOKEN}"),)], ids=["no token", "wrong token"]
)
def test_the_gcs_refuses_a_grpc_call_without_the_token(session_shell, metadata):
    with pytest.raises(grpc.RpcError) as refused:
        gcs_node_count(metadata)
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert gcs_node_count((("authorization", f"Bearer {session_token()}"),)) == 1


def test_a_ray_client_without_the_token_cannot_connect(session_shell, tmp_path):
    empty_home = tmp_path / "home"
    empty_home.mkdir()
    plain = env_without_ray(empty_home)
    one_try = {"RAY_gcs_server_port_wait_time_s": "1"}
    clients = {
        "no token": {**plain, **one_try},
        "wrong token": {**plain, **one_try, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": WRONG_TOKEN},
        "the token": {**plain, **one_try, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": session_token()},
    }
    address = ray.get_runtime_context().gcs_address
    running = {
        name: subprocess.Popen(
            [sys.executable, "-c", CONNECTING_CLIENT, address], env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for name, env in clients.items()
    }
    outputs = {name: process.communicate(timeout=120) for name, process in running.items()}
    said = {name: stdout.strip().splitlines()[-1] for name, (stdout, _) in outputs.items()}
    for refused in ("no token", "wrong token"):
        assert said[refused].startswith("refused:")
        reason = said[refused].removeprefix("refused:").strip()
        assert REFUSED in (reason or outputs[refused][1])  # Ray 2.52's error is empty; its log lines say why
    assert said["the token"] == "connected: 2.0"


@pytest.fixture(scope="module")
def dashboard_kernel(tmp_path_factory):
    """What a separate IPython process, in a home with no token yet, reports after
    `%ray_init --dashboard --runtime-env ...`; and the token file it left."""
    home = tmp_path_factory.mktemp("home")
    kernel = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(DASHBOARD_KERNEL)], env=env_without_ray(home),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        yield {**json.loads(kernel.stdout.readline()), "token_file": home / ".ray" / "auth_token"}
    finally:
        kernel.stdin.close()
        try:
            kernel.wait(60)
        except subprocess.TimeoutExpired:
            kernel.kill()
            kernel.wait()


@pytest.fixture(scope="module")
def dashboard_url(dashboard_kernel):
    return dashboard_kernel["dashboard"]


def test_the_embedded_rays_token_file_is_readable_by_its_owner_only(dashboard_kernel):
    token_file = dashboard_kernel["token_file"]
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert re.fullmatch("[0-9a-f]{64}", token_file.read_text())


def test_ray_init_runtime_env_json_arrives_intact_through_ipython(dashboard_kernel):
    assert dashboard_kernel["env_vars"] == {"A": "1"}


def http_status(url: str, headers: dict, method: str = "GET") -> int:
    request = urllib.request.Request(url, headers=headers, method=method, data=b"{}" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_the_dashboard_listens_on_loopback_only(dashboard_url):
    host, port = dashboard_url.rsplit(":", 1)
    listening = {
        connection.laddr.ip for connection in psutil.net_connections("inet")
        if connection.status == psutil.CONN_LISTEN and connection.laddr.port == int(port)
    }
    assert host == "127.0.0.1"
    assert listening == {"127.0.0.1"}


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/api/version"), ("GET", "/api/jobs/"), ("POST", "/api/jobs/")]
)
def test_the_dashboard_refuses_requests_without_the_token(dashboard_kernel, dashboard_url, method, path):
    url = f"http://{dashboard_url}{path}"
    assert http_status(url, {}, method) == 401
    assert http_status(url, {"Authorization": f"Bearer {WRONG_TOKEN}"}, method) == 403
    assert http_status(url, {"Cookie": f"ray-authentication-token={WRONG_TOKEN}"}, method) == 403
    if method == "GET":
        token = dashboard_kernel["token_file"].read_text()
        assert http_status(url, {"Authorization": f"Bearer {token}"}) == 200
        assert http_status(url, {"Cookie": f"ray-authentication-token={token}"}) == 200


HOSTILE = """<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">' " onmouseover='x'"""
SAFE_TAGS = {"table", "thead", "tbody", "tr", "th", "td", "span", "div", "p", "a"}
SAFE_ATTRIBUTES = {"style", "class", "href", "target", "rel"}
HOSTILE_ACTOR = """
class Hostile:
    def __init__(self, text, fail=False):
        if fail:
            raise RuntimeError(text)
        self.text = text
    def get_progress(self):
        return {"done": 1, "total": 2, "parts": {self.text: 0.5}}
    def nonsense(self):
        return {"done": self.text, "total": 1}
    def state(self):
        return [{self.text: self.text, "state": self.text}]
    def word(self):
        return self.text
"""


class Markup(HTMLParser):
    """The tags, attribute names and text of an HTML fragment (entities decoded)."""

    def __init__(self, html: str):
        super().__init__()
        self.tags, self.attributes, self.text = set(), set(), ""
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attributes.update(name for name, _ in attrs)

    def handle_data(self, data):
        self.text += data


def shown_as_text(html: str) -> str:
    """The text of `html`, once it is checked to hold only the drawing's own harmless markup."""
    markup = Markup(html)
    assert markup.tags <= SAFE_TAGS, html
    assert markup.attributes <= SAFE_ATTRIBUTES, html
    return markup.text


def html_values(widget) -> list[str]:
    """The `value` of every HTML widget in a widget tree, read from the widget state."""
    values = [widget.get_state()["value"]] if isinstance(widget, widgets.HTML) else []
    for child in getattr(widget, "children", ()):
        values.extend(html_values(child))
    return values


@pytest.fixture(scope="module")
def hostile_class(session_shell):
    with capture_output():
        session_shell.run_cell_magic("actor", "", HOSTILE_ACTOR)
    return session_shell.user_ns.pop("Hostile")


@pytest.fixture
def hostile(hostile_class):
    """Starts `Hostile` actors (named ones too) and kills them after the test."""
    started = []

    def make(*args, **options):
        handle = hostile_class.options(**options).remote(*args) if options else hostile_class.remote(*args)
        started.append(handle)
        return handle

    yield make
    REFRESHER.end_all("test over")
    for handle in started:
        ray.kill(handle)


def test_a_progress_bar_shows_hostile_labels_parts_and_reasons_as_text(hostile):
    handle = hostile(HOSTILE)
    bar = ray_magics.progress(handle, description=HOSTILE, unit=HOSTILE)
    wait_for(lambda: bar._part_bars, timeout=10)
    texts = [shown_as_text(value) for value in html_values(bar.widget)]
    assert texts.count(HOSTILE) == 2  # the description and the part's name
    assert any(f"50% · 1/2 {HOSTILE}" in text for text in texts)  # the unit
    failing = ray_magics.progress(handle, method="nonsense", wait=True, timeout=10)
    [reason] = [text for text in map(shown_as_text, html_values(failing.widget)) if "done must be a number" in text]
    assert 'got str "<script>wind' in reason and failing.bar.bar_style == "danger"


def test_a_state_table_shows_hostile_keys_and_cells_as_text(hostile):
    table = ray_magics.table(hostile(HOSTILE).state)
    wait_for(lambda: table.polls, timeout=10)
    text = shown_as_text(table.widget.get_state()["value"])
    assert text.count(HOSTILE) == 3  # the header, the cell, the state cell
    failing = ray_magics.table(hostile(HOSTILE).word, wait=True, timeout=10)
    assert 'a list of dicts, got str "<script>wind' in shown_as_text(failing.widget.get_state()["value"])


def test_the_actor_list_shows_hostile_names_and_death_causes_as_text(hostile):
    named = hostile(HOSTILE, name=HOSTILE)
    ray.get(named.__ray_ready__.remote())
    dead = hostile(HOSTILE, True)
    with pytest.raises(ray.exceptions.RayActorError):
        ray.get(dead.__ray_ready__.remote())
    view = ray_magics.actors(all=True)
    rows = {row["name"]: row for row in view.rows}
    assert rows[HOSTILE]["class"] == "Hostile"
    assert any(row["death cause"] == f"RuntimeError: {HOSTILE}" for row in view.rows)
    text = shown_as_text(view.widget.get_state()["value"])
    assert text.count(HOSTILE) >= 2


def test_the_cluster_summary_shows_hostile_facts_as_text(session_shell):
    facts = read_cluster()
    node = facts.nodes[0]
    node.address = HOSTILE
    node.total = {**node.total, HOSTILE: 1}
    facts.actor_states[HOSTILE] = 1
    facts.ray_version = HOSTILE
    text = shown_as_text(ClusterSummary(facts, detailed=True)._repr_html_())
    assert text.count(HOSTILE) == 4


CODE = '__import__("os").system("touch {marker}")'
CODE_IN_JSON = '{{"accel": __import__("os").system("touch {marker}")}}'
TARGET = "class Target:\n    def get_progress(self):\n        return 1.0\n"
OPTION_LINES = [
    ("%%actor", "--resources {code_in_json}"), ("%%actor", "--runtime-env {code_in_json}"),
    ("%%actor", "--resources {code}"), ("%%actor", "--runtime-env {code}"), ("%%actor", "--name {code}"),
    ("%%actor", "--namespace {code}"), ("%%actor", "--memory {code}"), ("%%actor", "--num-cpus {code}"),
    ("%%actor", "--max-restarts {code}"), ("%%actor", "--lifetime {code}"), ("%%actor", "{code}"),
    ("%ray_init", "--runtime-env {code}"), ("%ray_init", "--runtime-env {code_in_json}"),
    ("%ray_init", "--num-cpus {code}"), ("%ray_init", "--object-store-memory {code}"),
    ("%actor_progress", "{code}"), ("%actor_progress", "target --method {code}"),
    ("%actor_progress", "target --description {code} --unit {code}"), ("%actor_progress", "target --interval {code}"),
    ("%actor_progress", "target --wait --timeout {code}"),
    ("%actor_table", "{code}"), ("%actor_table", "target.get_progress --until {code}"),
    ("%actor_table", "target.get_progress --interval {code}"),
    ("%actors", "--class {code}"), ("%actors", "--watch --interval {code}"),
]  # `%ray_init --address/--namespace` take any text: they reach the start only where Ray is not running (below)


@pytest.mark.parametrize(("magic", "line"), OPTION_LINES)
def test_no_option_value_is_run_as_code(ip, tmp_path, magic, line):
    marker = tmp_path / "MARKER"
    values = {
        "code": shlex.quote(CODE.format(marker=marker)),
        "code_in_json": shlex.quote(CODE_IN_JSON.format(marker=marker)),
    }
    with capture_output():
        ip.run_cell_magic("actor", "--no-track", TARGET)
    ip.run_cell("target = Target.remote()")
    cell = f"{magic} {line.format(**values)}" + (f"\n{TARGET}" if magic == "%%actor" else "")
    with capture_output():
        result = ip.run_cell(cell)
    REFRESHER.end_all("test over")
    ray.kill(ip.user_ns["target"])
    assert result.error_in_exec is None or type(result.error_in_exec) is UsageError
    assert not marker.exists()


FRESH_KERNEL = r"""
import json, os, sys
from IPython.testing.globalipapp import start_ipython
from IPython.utils.capture import capture_output
import ray
ip = start_ipython()
ip.run_line_magic("load_ext", "ray_magics")
report = {}
for name, line in json.loads(sys.argv[1]).items():
    with capture_output() as shown:
        result = ip.run_cell(f"%ray_init {line}")
    error = result.error_before_exec or result.error_in_exec
    report[name] = {
        "error": None if error is None else [type(error).__name__, str(error)],
        "printed": shown.stdout,
        "shown": [output.data.get("text/plain", "") for output in shown.outputs],
        "namespace": ray.get_runtime_context().namespace if ray.is_initialized() else None,
        "marker": os.path.exists(sys.argv[2]),
    }
    if ray.is_initialized():
        ip.run_line_magic("ray_shutdown", "")
print("REPORT", json.dumps(report))
"""


def test_ray_init_address_and_namespace_reach_the_start_as_text_never_as_code(tmp_path):
    """In a kernel where Ray is not running (else `%ray_init` stops at "already running"):
    code as `--address` is refused by the start in one line, code as `--namespace` is the
    namespace of the Ray it starts, word for word; neither runs, in the kernel or in Ray."""
    marker = tmp_path / "MARKER"
    code = CODE.format(marker=marker)
    home = tmp_path / "home"
    home.mkdir()
    lines = {"address": f"--address {shlex.quote(code)}", "namespace": f"--namespace {shlex.quote(code)}"}
    [report] = reports(sys.executable, FRESH_KERNEL, json.dumps(lines), str(marker), env=env_without_ray(home),
                       timeout=240)
    address, namespace = report["address"], report["namespace"]
    assert address["error"] is not None and address["error"][0] == "UsageError", address
    message = address["error"][1]
    assert message.splitlines() == [message]
    assert message.startswith(f"%ray_init: could not start {code}: "), message  # the start path, not "already running"
    assert (address["printed"], address["shown"], address["namespace"]) == ("", [], None)
    assert namespace["error"] is None and namespace["printed"] == ""
    assert namespace["namespace"] == code  # Ray started, in a namespace named by the text as typed
    [summary] = namespace["shown"]
    assert summary.startswith("Ray ") and "CPUs" in summary
    assert not address["marker"] and not namespace["marker"] and not marker.exists()


def test_actor_json_options_arrive_intact_through_ipython(ip):
    ip.user_ns.update(accel="expanded", env_vars="expanded", A="expanded")
    line = "%%actor --resources '{\"accel\":1}' --runtime-env '{\"env_vars\": {\"A\": \"1\"}}'"
    cell = f"{line}\nclass Probe:\n    pass\n"
    with capture_output() as shown:
        result = ip.run_cell(cell)
    assert result.success
    assert shown.stdout == "Probe → Ray actor (resources={'accel': 1}, runtime_env={'env_vars': {'A': '1'}}, tracked)\n"
