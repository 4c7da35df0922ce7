#!/usr/bin/env python3
# ruff: noqa: S603, S607, S108 - a root-only check script: fixed commands, a private /dev/shm
"""Check the Binder set-up in binder/ without Binder.

    .venv/bin/python binder/check_binder.py [--reuse-env] [--no-cgroup] [--only-dashboard-link]

1. repo2docker: `repo2docker --no-build --debug .` must accept the repository and render a
   Dockerfile (no Docker daemon needed) that installs binder/requirements.txt from the
   repository root after the whole repository is copied in, with runtime.txt's Python.
   repo2docker is taken from PATH or installed into a throwaway virtualenv under /tmp.
2. A fresh virtualenv built from binder/ only (`python3 -m venv`, then
   `pip install -r binder/requirements.txt` from the repository root) runs every notebook in
   notebooks/ (and notebooks/zh/) with nbclient, as on mybinder.org: in a private mount
   namespace with a 64 MiB /dev/shm, pinned to 1 CPU, and (as root, with a writable cgroup v1
   memory hierarchy) inside a 2 GiB memory cgroup bind-mounted where ray_magics and Ray look
   for the limit, so the embedded Ray sizes its object store as it would on Binder.
   Without such a hierarchy (or with --no-cgroup) the notebooks run with no memory limit; the
   output and the RESULT line then say the 2 GiB memory limit was NOT applied.
   A probe notebook also checks that `%ray_init` put the object store in /tmp, and no cell
   output may contain a warning or stderr text (but for the lines a notebook's own actors write).
3. The summed RSS of the kernel and every Ray process (every process in the namespace but the
   notebook runner) is sampled every 0.2 s; its peak must stay under 2000 MiB.
4. The dashboard's link: a JupyterLab of the fresh virtualenv (127.0.0.1, a free port, a token)
   starts a kernel through its REST API; in it `%ray_init --dashboard` must show the link
   through the server's proxy (jupyter-server-proxy), and a GET of that link through the server
   must reach Ray's dashboard. `--only-dashboard-link` runs this check alone.

Prints a summary table; exits non-zero if a check fails. Linux, as root.
"""

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"
WORK = Path(tempfile.gettempdir()) / "ray_magics-binder-check"
SHM_SIZE = "64m"
CGROUP_LIMIT = 2 * 2**30
PEAK_LIMIT_MIB = 2000
SAMPLE_SECONDS = 0.2
CELL_TIMEOUT = 600
WARNING = re.compile(r"warn(ing)?\b|deprecat", re.IGNORECASE)
# What a notebook's own actor wrote, tagged as Ray tags it (`(Greeter pid=12) ...`): its stderr
# lines are the notebook's content (the quickstart shows them reaching the calling cell).
ACTOR_LINES = re.compile(r"(\([^()\n]*pid=\d+[^()\n]*\) [^\n]*\n?)+")  # `(Name pid=…, ip=…)` too
MEMORY_CGROUPS = Path("/sys/fs/cgroup/memory")
MEMORY_LIMIT = "2 GiB memory limit"
NO_MEMORY_LIMIT = "the notebooks run with NO memory limit, so the README's 2 GiB container promise is NOT checked"
SERVER_START_SECONDS = 120
LINK_CHECK_SECONDS = 900  # the whole dashboard link check: server, kernel, Ray with its dashboard
DASHBOARD_PAGE = b"<title>Ray Dashboard</title>"

PROBE_CELLS = [
    "%load_ext ray_magics",
    "%ray_init",
    """\
import json, os, shutil, ray, ray_magics.session.start_options as memory
ref = ray.put(bytes(4 * 2**20))  # large enough to live in the object store
assert len(ray.get(ref)) == 4 * 2**20
node = ray._private.worker._global_node
maps, own = set(), os.readlink("/proc/self/ns/mnt")
for pid in os.listdir("/proc"):
    try:
        if not pid.isdigit() or os.readlink(f"/proc/{pid}/ns/mnt") != own:
            continue  # another mount namespace: not this sandbox's Ray
        with open(f"/proc/{pid}/maps") as f:
            maps.update(line.split(None, 5)[-1].strip() for line in f if "plasma" in line)
    except OSError:
        pass
print("PROBE " + json.dumps({
    "memory_limit": memory.memory_limit(),
    "object_store_bytes": int(ray.cluster_resources().get("object_store_memory", 0)),
    "plasma_directory": getattr(getattr(node, "_ray_params", None), "plasma_directory", None),
    "shm_bytes": shutil.disk_usage("/dev/shm").total,
    "plasma_mappings": sorted(maps),
}))""",
    "%ray_shutdown",
]


# --------------------------------------------------------------------------- runner side
# Runs inside the namespace with the fresh environment's Python: stdlib + nbclient only.


def run_notebooks(report_path: str, notebooks: list[str]) -> None:
    """Run the probe, then each notebook, with nbclient; rewrite the JSON report after each."""
    import nbformat
    from nbclient import NotebookClient

    probe = nbformat.v4.new_notebook()
    probe.cells = [nbformat.v4.new_code_cell(source) for source in PROBE_CELLS]
    probe.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    jobs = [("(probe: %ray_init defaults)", probe, str(ROOT))]
    jobs += [(name, nbformat.read(name, as_version=4), str(Path(name).parent)) for name in notebooks]
    results = []
    for name, notebook, cwd in jobs:
        started = time.monotonic()
        result = {"name": name, "error": None, "warnings": [], "probe": None}
        try:
            NotebookClient(
                notebook, timeout=CELL_TIMEOUT, kernel_name="python3", resources={"metadata": {"path": cwd}}
            ).execute()
        except Exception as error:  # noqa: BLE001 - any failure is reported, then the next notebook runs
            result["error"] = f"{type(error).__name__}: {str(error).strip()[-1500:]}"
        for index, cell in enumerate(notebook.cells):
            for output in cell.get("outputs", []):
                for text in output_texts(output):
                    if text.startswith("PROBE "):
                        result["probe"] = json.loads(text[len("PROBE ") :])
                        continue
                    stderr = output.get("output_type") == "stream" and output.get("name") == "stderr"
                    if (stderr and not ACTOR_LINES.fullmatch(text)) or WARNING.search(text):
                        result["warnings"].append(f"cell {index}: {text.strip()[:300]}")
        result["seconds"] = round(time.monotonic() - started, 1)
        results.append(result)
        Path(report_path).write_text(json.dumps(results))
        print(f"  ran {name} in {result['seconds']} s", flush=True)


def output_texts(output) -> list[str]:
    """The lines of text a cell output shows (stream, error, or plain/HTML/Markdown data)."""
    if output.get("output_type") == "stream":
        return str(output.get("text", "")).splitlines()
    if output.get("output_type") == "error":
        return [f"{output.get('ename')}: {output.get('evalue')}"]
    texts = []
    for mime in ("text/plain", "text/html", "text/markdown"):
        value = output.get("data", {}).get(mime)
        if value:
            texts.extend(("".join(value) if isinstance(value, list) else str(value)).splitlines())
    return texts


# --------------------------------------------------------------------------- dashboard link runner
# Runs with the fresh environment's Python, outside the sandbox: stdlib + jupyter_client only.


def check_dashboard_link(report_path: str) -> None:
    """In a JupyterLab of this environment, a kernel started through its REST API runs
    `%ray_init --dashboard`; GET the link its summary shows through the server; write the JSON report."""
    report = {"link": None, "status": None, "ray_dashboard": False, "error": None}
    with tempfile.TemporaryDirectory() as directory:
        server, url, token = start_jupyter_server(Path(directory))
        try:
            report.update(dashboard_link_through(url, token, Path(directory) / "runtime"))
        except Exception as error:  # noqa: BLE001 - any failure is the check's result
            report["error"] = f"{type(error).__name__}: {str(error).strip()[-1500:]}"
        finally:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    Path(report_path).write_text(json.dumps(report))


def start_jupyter_server(directory: Path) -> tuple[subprocess.Popen, str, str]:
    """JupyterLab, as on Binder, on 127.0.0.1 at a free port with a token: (process, url, token)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    token = secrets.token_hex(16)
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={directory}",
         *(["--allow-root"] if os.geteuid() == 0 else [])],
        env={**os.environ, "JUPYTER_RUNTIME_DIR": str(directory / "runtime")},
        stdout=subprocess.DEVNULL, stderr=(directory / "server.log").open("w"),
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_SECONDS
    while server_request(url, token, "GET", "/api/status")[0] != 200:
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise RuntimeError("JupyterLab did not start: " + (directory / "server.log").read_text()[-1500:])
        time.sleep(0.3)
    return server, url, token


def server_request(url: str, token: str, method: str, path: str, body: dict | None = None) -> tuple[int, bytes]:
    """(status, body) of a request to the Jupyter server at url, with its token; (0, b"") if none came."""
    import urllib.error
    import urllib.request

    data = None if body is None else json.dumps(body).encode()
    headers = {"Authorization": f"token {token}"}
    request = urllib.request.Request(url + path, data=data, method=method, headers=headers)  # noqa: S310 - ours
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our own server on loopback
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError:
        return 0, b""


def dashboard_link_through(url: str, token: str, runtime_dir: Path) -> dict:
    """Start a kernel through the server, show its summary with the dashboard on, GET its link through
    the server, shut Ray and the kernel down: the link, the GET's status and whether Ray's dashboard answered."""
    from jupyter_client import BlockingKernelClient

    status, body = server_request(url, token, "POST", "/api/kernels", {"name": "python3"})
    if status != 201:
        raise RuntimeError(f"POST /api/kernels: {status} {body[:300]!r}")
    kernel_id = json.loads(body)["id"]
    client = BlockingKernelClient(connection_file=str(runtime_dir / f"kernel-{kernel_id}.json"))
    client.load_connection_file()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=SERVER_START_SECONDS)
        run_cell(client, "%load_ext ray_magics")
        summary = run_cell(client, "%ray_init --dashboard")
        rows = dict(line.split(None, 1) for line in summary.splitlines() if line.startswith("dashboard "))
        link = rows.get("dashboard", "").strip()
        status, page = server_request(url, token, "GET", link) if link.startswith("/") else (None, b"")
        run_cell(client, "%ray_shutdown")
    finally:
        client.stop_channels()
        server_request(url, token, "DELETE", f"/api/kernels/{kernel_id}")
    return {"link": link, "status": status, "ray_dashboard": DASHBOARD_PAGE in page}


def run_cell(client, code: str) -> str:
    """Run code in the kernel and return the text it displayed; raise if it failed or wrote to stderr."""
    shown, failed = [], []

    def hook(message: dict) -> None:
        kind, content = message["msg_type"], message["content"]
        if kind in ("display_data", "execute_result"):
            shown.append(content["data"].get("text/plain", ""))
        elif kind == "error" or (kind == "stream" and content["name"] == "stderr"):
            failed.append(content.get("text") or f"{content.get('ename')}: {content.get('evalue')}")

    reply = client.execute_interactive(code, timeout=CELL_TIMEOUT, output_hook=hook)
    if reply["content"]["status"] != "ok" or failed:
        raise RuntimeError(f"{code!r}: {' '.join(failed).strip()[-1500:] or reply['content'].get('evalue')}")
    return "\n".join(shown)


# --------------------------------------------------------------------------- checker side


class Checks:
    """The checks' outcomes, printed as they come, then as a table and a RESULT line."""

    def __init__(self):
        self.rows: list[tuple[str, str, str]] = []
        self.not_applied_notes: list[str] = []

    def add(self, name: str, ok: bool | None, detail: str) -> None:
        """Record a check that passed (True), failed (False) or only informs (None)."""
        self._record(name, {True: "PASS", False: "FAIL", None: "INFO"}[ok], detail)

    def not_applied(self, name: str, why: str, consequence: str) -> None:
        """Record a set-up step that could not be applied; the RESULT line repeats it."""
        self.not_applied_notes.append(f"{name} NOT applied: {why}; {consequence}")
        self._record(name, "WARN", f"NOT APPLIED: {why}; {consequence}")

    def _record(self, name: str, mark: str, detail: str) -> None:
        self.rows.append((name, mark, detail))
        print(f"[{mark}] {name}: {detail}", flush=True)

    def table(self) -> str:
        """The rows as a table, one line per detail line."""
        width = max(len(name) for name, _, _ in self.rows)
        lines = [f"{'check'.ljust(width)}  result  detail", f"{'-' * width}  ------  {'-' * 40}"]
        for name, mark, detail in self.rows:
            shown = "info" if mark == "INFO" else mark
            detail_lines = detail.splitlines() or [""]
            lines.append(f"{name.ljust(width)}  {shown.ljust(6)}  {detail_lines[0]}")
            lines.extend(f"{'':{width}}          {more}" for more in detail_lines[1:])
        return "\n".join(lines)

    def result_line(self) -> str:
        """RESULT: PASS or FAIL, followed by every set-up step that was NOT applied."""
        verdict = "FAIL" if self.failed else "PASS"
        return f"RESULT: {verdict}" + "".join(f" ({note})" for note in self.not_applied_notes)

    @property
    def failed(self) -> bool:
        """Whether any check failed."""
        return any(mark == "FAIL" for _, mark, _ in self.rows)


def step(message: str) -> None:
    """Print a phase heading."""
    print(f"\n== {message}", flush=True)


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Echo and run a command, capturing its output as text."""
    print("+ " + " ".join(command), flush=True)
    return subprocess.run(command, text=True, capture_output=True, **kwargs)


def runtime_python() -> tuple[str, str]:
    """(runtime.txt's Python version, a local interpreter for it)."""
    runtime = (BINDER / "runtime.txt").read_text().strip()
    version = runtime.removeprefix("python-")
    return version, shutil.which(f"python{version}") or shutil.which("python3") or sys.executable


def check_repo2docker(checks: Checks) -> None:
    """Check that repo2docker renders a Dockerfile that installs binder/ as Binder would."""
    step("repo2docker --no-build --debug .")
    repo2docker = shutil.which("repo2docker")
    if not repo2docker:
        env = WORK / "repo2docker-venv"
        if not (env / "bin" / "repo2docker").exists():
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(env)], check=True)
            install = run([str(env / "bin" / "pip"), "install", "--quiet", "jupyter-repo2docker"])
            if install.returncode:
                checks.add("repo2docker accepts binder/", False, "pip install jupyter-repo2docker failed")
                return
        repo2docker = str(env / "bin" / "repo2docker")
    version = run([repo2docker, "--version"]).stdout.strip()
    # --no-build sets dry_run: repo2docker renders the Dockerfile and never talks to Docker.
    rendered = run([repo2docker, "--no-build", "--debug", "--user-id", "1000", "--user-name", "jovyan", "."], cwd=ROOT)
    text = rendered.stdout + rendered.stderr
    (WORK / "Dockerfile.rendered.txt").write_text(text)
    if rendered.returncode:
        checks.add("repo2docker accepts binder/", False, f"exit {rendered.returncode}: {text.strip()[-600:]}")
        return
    copy_all = text.find("COPY --chown=1000:1000 src/ ${REPO_DIR}/")
    install = text.find('pip install --no-cache-dir -r "binder/requirements.txt"')
    workdir = text.find("WORKDIR ${REPO_DIR}")
    python, _ = runtime_python()
    problems = []
    if f"python={python}" not in text:
        problems.append(f"no python={python} from runtime.txt")
    if install < 0:
        problems.append("binder/requirements.txt is not installed")
    elif not 0 <= copy_all < install or not 0 <= workdir < install:
        problems.append("binder/requirements.txt is installed before the repository is copied in")
    checks.add(
        "repo2docker accepts binder/",
        not problems,
        "; ".join(problems)
        or f"repo2docker {version}: Dockerfile rendered without Docker; conda python={python}; "
        "`pip install -r binder/requirements.txt` runs in WORKDIR ${REPO_DIR} (the repo root) "
        f"after COPY src/ (full Dockerfile: {WORK / 'Dockerfile.rendered.txt'})",
    )


def build_env(checks: Checks, reuse: bool) -> Path | None:
    """A fresh virtualenv from binder/requirements.txt alone, or None if it does not build."""
    step("fresh virtualenv from binder/ only")
    env = WORK / "binder-env"
    python_version, interpreter = runtime_python()
    started = time.monotonic()
    if not (reuse and (env / "bin" / "jupyter-lab").exists()):
        subprocess.run([interpreter, "-m", "venv", "--clear", str(env)], check=True)
        run([str(env / "bin" / "python"), "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
        # From the repository root, exactly as repo2docker does; pip resolves `.` against the cwd.
        install = run(
            [str(env / "bin" / "python"), "-m", "pip", "install", "--quiet", "-r", "binder/requirements.txt"], cwd=ROOT
        )
        if install.returncode:
            checks.add("binder env builds", False, install.stderr.strip()[-800:])
            return None
    actual = run([str(env / "bin" / "python"), "-c", "import platform; print(platform.python_version())"]).stdout
    probe = run(
        [
            str(env / "bin" / "python"),
            "-c",
            "import importlib.metadata as m, ray_magics, ray, jupyterlab, nbclient, ipykernel, jupyter_server_proxy; "
            "print(ray_magics.__file__, 'ray', ray.__version__, 'jupyterlab', jupyterlab.__version__, "
            "'nbclient', nbclient.__version__)",
        ],
        cwd="/",
    )
    if probe.returncode:
        checks.add("binder env builds", False, probe.stderr.strip()[-800:])
        return None
    where = probe.stdout.split()[0]
    installed = str(env) in where
    seconds = time.monotonic() - started
    checks.add(
        "binder env builds",
        installed,
        f"{'reused' if reuse and seconds < 30 else 'built'} in {seconds:.0f} s, Python {actual.strip()} "
        f"(runtime.txt: {python_version}); {' '.join(probe.stdout.split()[1:])}; ray_magics from {where}",
    )
    return env if installed else None


def notebooks() -> list[Path]:
    """The notebooks to run: notebooks/*.ipynb, then notebooks/zh/*.ipynb."""
    found = sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "notebooks" / "zh").glob("*.ipynb"))
    return [path for path in found if ".ipynb_checkpoints" not in path.parts]


def make_cgroup(checks: Checks, wanted: bool) -> Path | None:
    """A new 2 GiB cgroup v1 memory cgroup, or None, recorded as NOT applied with the reason."""
    if not wanted:
        why = "--no-cgroup was given"
    elif not (MEMORY_CGROUPS / "memory.limit_in_bytes").exists():
        why = f"no cgroup v1 memory hierarchy at {MEMORY_CGROUPS}"
    elif not os.access(MEMORY_CGROUPS, os.W_OK):
        why = f"the cgroup v1 memory hierarchy {MEMORY_CGROUPS} is not writable"
    else:
        group = MEMORY_CGROUPS / f"ray_magics_binder_check_{os.getpid()}"
        try:
            group.mkdir()
            (group / "memory.limit_in_bytes").write_text(str(CGROUP_LIMIT))
            return group
        except OSError as error:
            why = f"could not create the memory cgroup {group} ({error})"
    checks.not_applied(MEMORY_LIMIT, why, NO_MEMORY_LIMIT)
    return None


def remove_cgroup(group: Path) -> None:
    """Remove the memory cgroup, retrying for up to 10 s while its last processes exit."""
    for _ in range(50):
        try:
            group.rmdir()
            return
        except OSError:
            time.sleep(0.2)


def namespace_pids(mnt_ns: str) -> list[int]:
    """The processes in the mount namespace mnt_ns."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.readlink(f"/proc/{entry}/ns/mnt") == mnt_ns:
                    pids.append(int(entry))
            except OSError:
                pass
    return pids


@dataclass
class RssSamples:
    """The summed RSS of the sandbox's processes, sampled while the notebooks run."""

    mnt_ns: str | None = None
    samples: int = 0
    peak: int = 0
    peak_snapshot: list[tuple[int, str]] = field(default_factory=list)

    def add(self, snapshot: list[tuple[int, str]]) -> None:
        """Count one sample of (RSS, label) pairs; keep it if its sum is the highest yet."""
        self.samples += 1
        total = sum(rss for rss, _ in snapshot)
        if total > self.peak:
            self.peak, self.peak_snapshot = total, snapshot


def run_in_binder_box(checks: Checks, env: Path, cgroup: Path | None) -> None:
    """Run the probe and every notebook in the Binder-like sandbox, then record what happened."""
    paths = notebooks()
    step(f"running {len(paths)} notebook(s) + probe under 64 MiB /dev/shm, 1 CPU")
    report = WORK / "notebooks.json"
    report.unlink(missing_ok=True)
    kernel_log = WORK / "runner-stderr.log"
    started = time.monotonic()
    returncode, rss, leftovers = run_sandbox(sandbox_script(env, cgroup, report, paths), env, kernel_log)
    cgroup_peak, oom_control = read_cgroup_usage(cgroup) if cgroup else (0, "")
    elapsed = time.monotonic() - started
    results = json.loads(report.read_text()) if report.exists() else []
    if returncode or not results:
        checks.add("namespace runner", False, f"exit {returncode}: {kernel_log.read_text().strip()[-1500:]}")
        if not results:
            return
    checks.add(
        "sandbox",
        None,
        f"unshare -m: private /dev/shm tmpfs size={SHM_SIZE}, taskset -c 0"
        + (f", memory cgroup limit {CGROUP_LIMIT // 2**20} MiB" if cgroup else f", {MEMORY_LIMIT} NOT applied"),
    )
    record_notebook_results(checks, results, paths)
    record_kernel_stderr(checks, kernel_log)
    record_peak_rss(checks, rss)
    if cgroup:
        record_cgroup_usage(checks, cgroup_peak, oom_control)
    checks.add(
        "processes left after the runner",
        None if not leftovers else False,
        f"{len(leftovers)} (killed)" if leftovers else "none",
    )
    checks.add("notebook phase wall time", None, f"{elapsed:.0f} s")


def sandbox_script(env: Path, cgroup: Path | None, report: Path, paths: list[Path]) -> str:
    """The shell script that sets up the sandbox inside unshare -m, then runs the notebooks on CPU 0."""
    setup = []
    if cgroup:
        setup += [f"echo $$ > {cgroup}/cgroup.procs", f"mount --bind {cgroup} {MEMORY_CGROUPS}"]
    setup += [f"mount -t tmpfs -o size={SHM_SIZE} tmpfs /dev/shm"]
    inner = [str(env / "bin" / "python"), str(Path(__file__).resolve()), "--run-notebooks", str(report)]
    inner += [str(path) for path in paths]
    return " && ".join(setup) + " && exec taskset -c 0 " + " ".join(f"'{part}'" for part in inner)


def runner_environment(env: Path) -> dict[str, str]:
    """This process's environment without virtualenv and Ray variables, with env's bin/ first on PATH."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("VIRTUAL_ENV", "RAY_"))}
    environment["PATH"] = f"{env / 'bin'}:{environment.get('PATH', '/usr/bin:/bin')}"
    return environment


def run_sandbox(script: str, env: Path, kernel_log: Path) -> tuple[int, RssSamples, list[int]]:
    """Run script in a private mount namespace while sampling RSS; kill what outlives it.

    Returns the exit code, the RSS samples and the pids that had to be killed.
    """
    own_ns = os.readlink("/proc/self/ns/mnt")
    with open(kernel_log, "w") as log:
        box = subprocess.Popen(
            ["unshare", "-m", "--propagation", "private", "sh", "-c", script],
            stdout=None,
            stderr=log,
            cwd=ROOT,
            env=runner_environment(env),
        )
        rss = sample_rss_until_exit(box, own_ns)
        leftovers = kill_namespace(rss.mnt_ns) if rss.mnt_ns else []
    return box.returncode, rss, leftovers


def sample_rss_until_exit(box: subprocess.Popen, own_ns: str) -> RssSamples:
    """Sample the sandbox's RSS every SAMPLE_SECONDS until its runner exits."""
    rss = RssSamples()
    while box.poll() is None:
        rss.mnt_ns = rss.mnt_ns or entered_namespace(box.pid, own_ns)
        if rss.mnt_ns:
            rss.add(namespace_rss(rss.mnt_ns, box.pid))
        time.sleep(SAMPLE_SECONDS)
    return rss


def entered_namespace(pid: int, own_ns: str) -> str | None:
    """pid's mount namespace once unshare has moved it out of ours, else None."""
    try:
        mnt_ns = os.readlink(f"/proc/{pid}/ns/mnt")
    except OSError:
        return None
    return mnt_ns if mnt_ns != own_ns else None


def namespace_rss(mnt_ns: str, runner_pid: int) -> list[tuple[int, str]]:
    """(RSS, label) of every process in the namespace but the notebook runner."""
    import psutil

    snapshot = []
    for pid in namespace_pids(mnt_ns):
        if pid == runner_pid:
            continue  # the nbclient runner (on Binder: the Jupyter server's place)
        try:
            process = psutil.Process(pid)
            snapshot.append((process.memory_info().rss, process_label(process)))
        except psutil.Error:
            pass
    return snapshot


def kill_namespace(mnt_ns: str) -> list[int]:
    """Kill the processes this check started that outlived the runner; return their pids."""
    import psutil

    leftovers = namespace_pids(mnt_ns)
    for pid in leftovers:
        try:
            psutil.Process(pid).kill()
        except psutil.Error:
            pass
    return leftovers


def read_cgroup_usage(cgroup: Path) -> tuple[int, str]:
    """The memory cgroup's peak usage in bytes and its memory.oom_control text ("" if unreadable)."""
    peak = 0
    try:
        peak = int((cgroup / "memory.max_usage_in_bytes").read_text())
        return peak, (cgroup / "memory.oom_control").read_text()
    except OSError:
        return peak, ""


def record_notebook_results(checks: Checks, results: list[dict], paths: list[Path]) -> None:
    """Record, per notebook, whether it ran and whether its outputs are free of warnings."""
    for result in results:
        name = result["name"].replace(str(ROOT) + "/", "")
        if result["error"]:
            checks.add(f"run {name}", False, result["error"])
        else:
            checks.add(f"run {name}", True, f"{result['seconds']} s, every cell ran")
        checks.add(
            f"no warnings {name}",
            not result["warnings"],
            "\n".join(result["warnings"][:8]) or "no warning or stderr text in any output",
        )
        if result["probe"]:
            check_probe(checks, result["probe"])
    ran = {result["name"] for result in results}
    missing = [str(path) for path in paths if str(path) not in ran]
    if missing:
        checks.add("every notebook ran", False, "not run: " + ", ".join(missing))


def record_kernel_stderr(checks: Checks, kernel_log: Path) -> None:
    """Show the first warnings the kernels wrote to stderr (outside any cell output)."""
    log_warnings = [line for line in kernel_log.read_text().splitlines() if WARNING.search(line)]
    checks.add(
        "kernel stderr (not cell output)",
        None,
        "\n".join(line[:200] for line in log_warnings[:5]) or "no warnings",
    )


def record_peak_rss(checks: Checks, rss: RssSamples) -> None:
    """Check that the kernel and Ray together peaked under PEAK_LIMIT_MIB, with the biggest processes."""
    top = sorted(rss.peak_snapshot, reverse=True)
    breakdown = ", ".join(f"{label} {size / 2**20:.0f}" for size, label in top[:6])
    checks.add(
        "peak RSS kernel + Ray",
        rss.peak > 0 and rss.peak / 2**20 < PEAK_LIMIT_MIB,
        f"{rss.peak / 2**20:.0f} MiB (limit {PEAK_LIMIT_MIB} MiB; {rss.samples} samples every {SAMPLE_SECONDS} s; "
        f"{len(rss.peak_snapshot)} processes at peak)\nat peak, MiB: {breakdown}",
    )


def record_cgroup_usage(checks: Checks, cgroup_peak: int, oom_control: str) -> None:
    """Show the memory cgroup's peak; fail if the cgroup OOM-killed anything."""
    killed = re.search(r"oom_kill (\d+)", oom_control)
    checks.add(
        "cgroup peak (incl. runner, page cache)",
        None if not killed or killed.group(1) == "0" else False,
        f"{cgroup_peak / 2**20:.0f} MiB of {CGROUP_LIMIT // 2**20} MiB; OOM kills: "
        f"{killed.group(1) if killed else '?'}",
    )


def process_label(process) -> str:
    """A short name for a process in the RSS breakdown: kernel, a Ray process, or its script."""
    try:
        cmdline = process.cmdline()
    except Exception:  # noqa: BLE001
        cmdline = []
    text = " ".join(cmdline)
    if "ipykernel" in text:
        return "kernel"
    name = process.name()
    if name.startswith("ray::"):
        return name
    for word in ("raylet", "gcs_server", "default_worker"):
        if word in text:
            return word
    scripts = [Path(part) for part in cmdline[1:3] if part.endswith(".py")]
    return f"{scripts[0].parent.name}/{scripts[0].name}" if scripts else name


def check_probe(checks: Checks, probe: dict) -> None:
    """Check that the probe found the object store in /tmp, not in the small /dev/shm."""
    directory = probe.get("plasma_directory")
    mappings = probe.get("plasma_mappings", [])
    in_tmp = (
        bool(directory)
        and not directory.startswith("/dev/shm")
        and all(not mapping.startswith("/dev/shm") for mapping in mappings)
    )
    checks.add(
        "object store falls back to /tmp",
        in_tmp,
        f"/dev/shm {probe['shm_bytes'] / 2**20:.0f} MiB; memory limit seen {probe['memory_limit'] / 2**20:.0f} MiB; "
        f"object store {probe['object_store_bytes'] / 2**20:.0f} MiB in {directory}; "
        f"mapped: {', '.join(mappings) or 'none'}",
    )


def check_dashboard_link_in_jupyter(checks: Checks, env: Path) -> None:
    """Check, in a JupyterLab of the binder env, that the summary links the dashboard through the
    server's proxy and that the link reaches Ray's dashboard."""
    step("the dashboard's link through a JupyterLab of the binder env")
    report = WORK / "dashboard_link.json"
    report.unlink(missing_ok=True)
    started = time.monotonic()
    command = [str(env / "bin" / "python"), str(Path(__file__).resolve()), "--check-dashboard-link", str(report)]
    print("+ " + " ".join(command), flush=True)
    runner = subprocess.Popen(command, cwd=WORK, env=runner_environment(env), start_new_session=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output = runner.communicate(timeout=LINK_CHECK_SECONDS)[0]
    except subprocess.TimeoutExpired:
        os.killpg(runner.pid, signal.SIGKILL)  # the runner, its JupyterLab and the kernel
        output = runner.communicate()[0] + f"\nno result within {LINK_CHECK_SECONDS} s"
    found = json.loads(report.read_text()) if report.exists() else {"error": output.strip()[-1500:]}
    link, status = found.get("link"), found.get("status")
    passed = not found.get("error") and str(link).startswith("/proxy/") and status == 200 and found["ray_dashboard"]
    checks.add(
        "dashboard link through the Jupyter server's proxy",
        passed,
        found.get("error")
        or f"%ray_init --dashboard in a kernel started through the server's REST API shows {link!r}; "
        f"GET through the server: {status}, {'Ray' if found['ray_dashboard'] else 'NOT Ray'}'s dashboard page "
        f"({time.monotonic() - started:.0f} s)",
    )


def main() -> int:
    """Run the checks (or, with --run-notebooks, the runner inside the sandbox; with
    --check-dashboard-link, the dashboard link runner)."""
    if len(sys.argv) > 2 and sys.argv[1] == "--run-notebooks":
        run_notebooks(sys.argv[2], sys.argv[3:])
        return 0
    if len(sys.argv) == 3 and sys.argv[1] == "--check-dashboard-link":
        check_dashboard_link(sys.argv[2])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reuse-env", action="store_true", help="reuse the env from a previous run")
    parser.add_argument(
        "--no-cgroup",
        action="store_true",
        help="do not run inside a 2 GiB memory cgroup (the RESULT line then says the limit was NOT applied)",
    )
    parser.add_argument("--skip-repo2docker", action="store_true")
    parser.add_argument(
        "--only-dashboard-link", action="store_true",
        help="build (or reuse) the env and run only the dashboard link check, no notebooks",
    )
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root: the check mounts a private 64 MiB /dev/shm (unshare -m)")
    started = time.monotonic()
    WORK.mkdir(parents=True, exist_ok=True)
    checks = Checks()
    if not (args.skip_repo2docker or args.only_dashboard_link):
        check_repo2docker(checks)
    env = build_env(checks, args.reuse_env)
    if env and not args.only_dashboard_link:
        cgroup = make_cgroup(checks, not args.no_cgroup)
        try:
            run_in_binder_box(checks, env, cgroup)
        finally:
            if cgroup:
                remove_cgroup(cgroup)
    if env:
        check_dashboard_link_in_jupyter(checks, env)
    checks.add("total wall time", None, f"{time.monotonic() - started:.0f} s")
    print("\n" + checks.table())
    print("\n" + checks.result_line())
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
