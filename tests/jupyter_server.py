"""A real Jupyter server for the tests that need one: the browser test's JupyterLab, and the
servers whose kernels show the dashboard's link."""

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from .conftest import free_port
from .processes import clean_env

SERVER_START_SECONDS = 90
ROOT_FLAG = ["--allow-root"] if os.geteuid() == 0 else []


class JupyterServer:
    """A Jupyter server (`app`: `jupyter_server`, or `jupyterlab` for its pages) on 127.0.0.1 (random
    port, token), its runtime files and log in `directory`, `env` added to a clean environment."""

    def __init__(self, directory: Path, *options: str, base_url: str = "/", app: str = "jupyter_server", **env: str):
        self.runtime_dir = directory / "runtime"
        self.token = uuid.uuid4().hex
        port = free_port()
        self.url, self.base_url = f"http://127.0.0.1:{port}", base_url
        env = clean_env(JUPYTER_RUNTIME_DIR=str(self.runtime_dir), **env)
        env.pop("JUPYTERHUB_SERVICE_PREFIX", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", app, "--no-browser", "--ip=127.0.0.1", f"--port={port}",
             f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={directory}",
             f"--ServerApp.base_url={base_url}", *ROOT_FLAG, *options],
            env=env, cwd=directory, stdout=subprocess.DEVNULL, stderr=(directory / "server.log").open("w"),
        )
        deadline = time.monotonic() + SERVER_START_SECONDS
        while self.request("GET", f"{base_url}api/status")[0] != 200:
            assert self.process.poll() is None, (directory / "server.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "the Jupyter server did not answer"
            time.sleep(0.3)

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict, bytes]:
        """(status, headers, body) of a request for `path` on the server, with its token."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Authorization": f"token {self.token}"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()
        except OSError:
            return 0, {}, b""

    def start_kernel(self) -> Path:
        """Start a kernel through the server's REST API: its connection file."""
        status, _, body = self.request("POST", f"{self.base_url}api/kernels", {"name": "python3"})
        assert status == 201, body
        return self.runtime_dir / f"kernel-{json.loads(body)['id']}.json"

    def stop(self) -> None:
        """Stop the server, and with it the kernels it runs."""
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
