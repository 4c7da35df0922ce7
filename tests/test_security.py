"""Security: the token is the lock on the embedded Ray, and nothing a user types or an actor
returns runs as code (in the kernel or in the page)."""

import json
import os
import subprocess
import sys
import textwrap
import urllib.error
import urllib.request

import grpc
import psutil
import pytest
import ray
from ray._raylet import AuthenticationTokenLoader
from ray.core.generated import gcs_service_pb2, gcs_service_pb2_grpc

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

DASHBOARD_KERNEL = """
import json, sys
from IPython.testing.globalipapp import start_ipython
from IPython.utils.capture import capture_output
ip = start_ipython()
ip.run_line_magic("load_ext", "ray_magics")
with capture_output():
    ip.run_line_magic("ray_init", "--dashboard --num-cpus 1")
from ray._private.worker import get_dashboard_url
print(json.dumps({"dashboard": get_dashboard_url()}), flush=True)
sys.stdin.read()
ip.run_line_magic("ray_shutdown", "")
"""


def session_token() -> str:
    """The token of the embedded Ray this test session runs (the `Bearer` value)."""
    return AuthenticationTokenLoader.instance().get_token_for_http_header()["authorization"].removeprefix("Bearer ")


def env_without_ray(home) -> dict:
    """This process's environment without any `RAY_*` setting, and `HOME` at `home`."""
    return {**{name: value for name, value in os.environ.items() if not name.startswith("RAY_")}, "HOME": str(home)}


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
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        for name, env in clients.items()
    }
    said = {name: process.communicate(timeout=120)[0].strip().splitlines()[-1] for name, process in running.items()}
    assert said["no token"].startswith("refused:") and REFUSED in said["no token"]
    assert said["wrong token"].startswith("refused:") and REFUSED in said["wrong token"]
    assert said["the token"] == "connected: 2.0"


@pytest.fixture(scope="module")
def dashboard_url(tmp_path_factory):
    """The dashboard of a `%ray_init --dashboard` run by a separate IPython process."""
    kernel = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(DASHBOARD_KERNEL)], env=env_without_ray(os.path.expanduser("~")),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        yield json.loads(kernel.stdout.readline())["dashboard"]
    finally:
        kernel.stdin.close()
        try:
            kernel.wait(60)
        except subprocess.TimeoutExpired:
            kernel.kill()
            kernel.wait()


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
def test_the_dashboard_refuses_requests_without_the_token(dashboard_url, method, path):
    url = f"http://{dashboard_url}{path}"
    assert http_status(url, {}, method) == 401
    assert http_status(url, {"Authorization": f"Bearer {WRONG_TOKEN}"}, method) == 403
    assert http_status(url, {"Cookie": f"ray-authentication-token={WRONG_TOKEN}"}, method) == 403
    if method == "GET":
        assert http_status(url, {"Authorization": f"Bearer {session_token()}"}) == 200
        assert http_status(url, {"Cookie": f"ray-authentication-token={session_token()}"}) == 200
