"""A real multi-node Ray cluster on this machine, owned and stopped by the test that starts it.

Each node is a `ray start ... --block` process: it stays in the foreground, and SIGTERM to
it ends the processes it started. The cluster is private: its own short `RAY_TMPDIR` (so
`auto` finds it and no other, and unix socket paths stay short), its own token (or none,
with `token=False`), its own ports. Stopping ends only the processes this object started and their descendants, by id;
never `ray stop`, which would end every Ray on the machine.
"""

import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from .conftest import free_port

STARTED = "Ray runtime started."
START_TIMEOUT = 90.0
STOP_TIMEOUT = 20.0


class LocalCluster:
    """A head node and worker nodes; `env` is what a driver needs to reach it (and only it)."""

    def __init__(self, token: bool = True, python: str = sys.executable):
        self.python = python  # the Python the nodes run, and so their workers
        self.tmpdir = tempfile.mkdtemp(prefix="rmc-", dir="/tmp")  # short: unix sockets live below it
        self.port = free_port()
        self.client_port = free_port()
        self.env = {
            "RAY_TMPDIR": self.tmpdir,
            **({"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)} if token else
               {"RAY_AUTH_MODE": "disabled"}),  # (not unset: `ray start` would take a token found in ~/.ray)
            "RAY_ADDRESS": "",  # ignored by Ray when empty: `auto` looks in RAY_TMPDIR only
            "RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S": "0",  # SIGTERM ends a node at once (no 30 s drain)
        }
        self.nodes: list[subprocess.Popen] = []
        self.start_seconds: list[float] = []

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def client_address(self) -> str:
        return f"ray://127.0.0.1:{self.client_port}"

    def start_head(self, num_cpus: int = 1) -> subprocess.Popen:
        return self._start(
            "head", "--head", "--node-ip-address", "127.0.0.1", "--port", str(self.port),
            "--ray-client-server-port", str(self.client_port), "--dashboard-port", str(free_port()),
            "--num-cpus", str(num_cpus), "--include-dashboard=false",
        )

    def add_node(self, name: str, num_cpus: int = 1, resources: str = "{}") -> subprocess.Popen:
        return self._start(name, "--address", self.address, "--num-cpus", str(num_cpus), "--resources", resources)

    def _start(self, name: str, *options: str) -> subprocess.Popen:
        started = time.monotonic()
        log_path = Path(self.tmpdir, f"{name}.log")
        with open(log_path, "w") as log:
            node = subprocess.Popen(
                [self.python, "-m", "ray.scripts.scripts", "start", *options, "--disable-usage-stats",
                 "--dashboard-agent-listen-port", str(free_port()), "--block"],
                env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT,
            )
        self.nodes.append(node)
        while STARTED not in log_path.read_text():
            if node.poll() is not None or time.monotonic() - started > START_TIMEOUT:
                raise RuntimeError(f"ray start ({name}) failed:\n{log_path.read_text()}")
            time.sleep(0.1)
        self.start_seconds.append(time.monotonic() - started)
        return node

    def stop_node(self, node: subprocess.Popen) -> list[psutil.Process]:
        """SIGTERM to the node's `ray start`; kill what it leaves; the processes it had, all gone."""
        if node.poll() is not None:
            return []
        processes = [psutil.Process(node.pid), *psutil.Process(node.pid).children(recursive=True)]
        node.send_signal(signal.SIGTERM)
        _, left = psutil.wait_procs(processes, timeout=STOP_TIMEOUT)
        for process in left:
            process.kill()
        psutil.wait_procs(left, timeout=STOP_TIMEOUT)
        node.wait(STOP_TIMEOUT)
        return processes

    def stop(self) -> None:
        """Stop every node, workers first, then remove the cluster's directory."""
        for node in reversed(self.nodes):
            self.stop_node(node)
        shutil.rmtree(self.tmpdir, ignore_errors=True)
