#!/usr/bin/env python3
"""Set up and run ray_magics with nothing but Python 3.

    python3 run.py lab    # JupyterLab on 127.0.0.1 with the notebooks
    python3 run.py test   # the whole test suite (what CI runs)

Each command creates `.venv/` beside this file on first use, installs the package into
it with what that command needs, and then runs.
"""

import os
import re
import shutil
import subprocess
import sys
import threading
import venv
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent
ENV = ROOT / ".venv"
OLDEST_RAY_ENV = ROOT / ".venv-oldest-ray"  # the tests again, on the oldest Ray supported
ARTIFACTS = ROOT / "test-artifacts"
RAY_FLOOR = re.compile(r'"ray\[default\]>=([0-9.]+)')
# What these test is the same on every Ray release (the browser, the server proxy, packaging,
# option parsing, the code's layout, the tutorials' figures and text; stale actors, actors' logs and
# waits explained, whose Ray parts the cluster tests and the prints tests test on every Ray: the GCS's
# actor records and resources, ending an actor by its record, the workers' lines), or belongs with the
# notebooks, which CI runs on the newest Ray only (the tutorials' check cells), so the oldest Ray skips
# them and keeps CI short.
SAME_ON_EVERY_RAY = (
    "test_actor_logs", "test_architecture", "test_browser", "test_dashboard_link", "test_figures",
    "test_loading", "test_magic_fuzz", "test_packaging", "test_real_kernel", "test_refresher",
    "test_stale_actors", "test_text_forms", "test_tutorial_checks", "test_tutorials_text", "test_usage_errors",
    "test_waits_explained",
)
WITH_THE_NOTEBOOKS = "test_tutorial_checks"  # runs the tutorials' cells: in the notebooks' lane, which has room


def bin_dir(env: Path) -> Path:
    return env / ("Scripts" if os.name == "nt" else "bin")


BIN = bin_dir(ENV)


def run(*command: str, check: bool = True) -> int:
    print("+", " ".join(command), flush=True)
    return subprocess.run(command, cwd=ROOT, check=check).returncode


def install(extra: str, env: Path = ENV, *pins: str) -> str:
    """Create the virtual environment `env` if needed, install `.[extra]` (and `pins`) into it; its Python."""
    python = str(bin_dir(env) / "python")
    if not Path(python).exists():
        venv.EnvBuilder(with_pip=True).create(env)
        run(python, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(python, "-m", "pip", "install", "--quiet", "-e", f".[{extra}]", *pins)
    return python


def oldest_ray() -> str:
    """The oldest Ray release supported: pyproject's floor (`ray[default]>=X.Y`)."""
    return RAY_FLOOR.search((ROOT / "pyproject.toml").read_text()).group(1)


def lab() -> None:
    install("lab")
    os.chdir(ROOT)
    jupyter = str(BIN / "jupyter")
    root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    os.execv(jupyter, [jupyter, "lab", "--ip=127.0.0.1", f"--notebook-dir={ROOT / 'notebooks'}", *root])


def install_headless_chromium() -> None:
    """Debian's headless Chromium for the browser tests (Playwright cannot download one here)."""
    if any(shutil.which(name) for name in ("chromium-headless-shell", "chromium")):
        return
    if not shutil.which("apt-get") or os.geteuid() != 0:
        print("note: install Debian's chromium-headless-shell to run the browser test", flush=True)
        return
    run("apt-get", "update", "-qq")
    run("apt-get", "install", "-y", "-qq", "chromium-headless-shell")


class Lane(threading.Thread):
    """Commands run one after another in the background, their output into `log`; `codes` are
    their exit codes."""

    def __init__(self, commands: list[list[str]], log: Path):
        super().__init__(name="second lane")
        self.commands, self.log, self.codes = commands, log, []

    def run(self) -> None:
        with self.log.open("w") as out:
            for command in self.commands:
                out.write("+ " + " ".join(command) + "\n")
                out.flush()
                self.codes.append(subprocess.run(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT).returncode)


def install_both() -> tuple[str, str]:
    """The test tools on the newest Ray (`.venv/`) and on the oldest (`.venv-oldest-ray/`), installed at
    once (mostly waiting on downloads); the two Pythons."""
    with ThreadPoolExecutor(max_workers=1) as background:
        oldest = background.submit(install, "test", OLDEST_RAY_ENV, f"ray[default]=={oldest_ray()}.*")
        return install("test"), oldest.result()


def test() -> None:
    """Each pytest run keeps about one of CI's two cores busy, so two lanes run at once: the tests
    on the newest Ray here, and in the background the tests on the oldest Ray, then the notebooks
    (their stored outputs are the newest Ray's), whose output is shown when they end. The tests
    that assert how soon something happens (`latency`) run among the others: they must hold on a
    busy machine."""
    ARTIFACTS.mkdir(exist_ok=True)
    python, oldest = install_both()
    install_headless_chromium()
    run(str(BIN / "ruff"), "check", ".")
    on_newest = [python, "-m", "pytest", "--durations=25", "tests", f"--ignore=tests/{WITH_THE_NOTEBOOKS}.py"]
    on_oldest = [oldest, "-m", "pytest", "--durations=25", "tests",
                 *(f"--ignore=tests/{name}.py" for name in SAME_ON_EVERY_RAY)]
    log = ARTIFACTS / "second-lane.log"
    notebooks = [python, "-m", "pytest", "--durations=10", "notebooks", f"tests/{WITH_THE_NOTEBOOKS}.py"]
    second = Lane([on_oldest, notebooks], log)
    second.start()
    newest = run(*on_newest, check=False)
    second.join()
    print(f"--- the second lane ({log.relative_to(ROOT)}) ---\n{log.read_text()}", flush=True)
    runs = ("newest Ray", f"Ray {oldest_ray()}", "notebooks")
    failed = [f"{name} (exit {code})" for name, code in zip(runs, [newest, *second.codes], strict=True) if code]
    if failed:
        sys.exit(f"tests failed: {', '.join(failed)}")


COMMANDS = {"lab": lab, "test": test}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in COMMANDS:
        sys.exit(f"usage: python3 run.py {{{'|'.join(COMMANDS)}}}")
    try:
        COMMANDS[sys.argv[1]]()
    except subprocess.CalledProcessError as failure:
        sys.exit(failure.returncode)
