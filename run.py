#!/usr/bin/env python3
"""Set up and run ray_magics with nothing but Python 3.

    python3 run.py lab    # JupyterLab on 127.0.0.1 with the notebooks
    python3 run.py test   # the whole test suite (what CI runs)

Each command creates `.venv/` beside this file on first use, installs the package into
it with what that command needs, and then runs.
"""

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
ENV = ROOT / ".venv"
BIN = ENV / ("Scripts" if os.name == "nt" else "bin")


def run(*command: str) -> None:
    print("+", " ".join(command), flush=True)
    subprocess.run(command, cwd=ROOT, check=True)


def install(extra: str) -> None:
    """Create the virtual environment if needed and install `.[extra]` into it."""
    if not (BIN / "python").exists():
        venv.EnvBuilder(with_pip=True).create(ENV)
        run(str(BIN / "python"), "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(str(BIN / "python"), "-m", "pip", "install", "--quiet", "-e", f".[{extra}]")


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


def test() -> None:
    install("test")
    install_headless_chromium()
    run(str(BIN / "ruff"), "check", ".")
    run(str(BIN / "python"), "-m", "pytest")


COMMANDS = {"lab": lab, "test": test}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in COMMANDS:
        sys.exit(f"usage: python3 run.py {{{'|'.join(COMMANDS)}}}")
    try:
        COMMANDS[sys.argv[1]]()
    except subprocess.CalledProcessError as failure:
        sys.exit(failure.returncode)
