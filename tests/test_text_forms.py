"""The live views' text where widgets are not drawn: a saved notebook's `text/plain` that follows
the view to its last state, a line redrawn in place in a terminal, one final line in a log, and
`RayMagics.display` choosing."""

import os
import pty
import re
import subprocess
import sys
import textwrap

import pytest

from .kernel_driver import kernel_with

JOB = """%%actor
import time
class Job:
    def __init__(self):
        self.steps = 0
    def work(self):
        for _ in range(9):
            time.sleep(0.2)
            self.steps += 1
    def get_progress(self):
        return self.steps, 9
    def stages(self):
        return [{"stage": "fit", "state": "DONE" if self.steps >= 9 else "RUNNING"}]
"""


@pytest.fixture(scope="module")
def kernel():
    with kernel_with("%load_ext ray_magics\n%config RayMagics.num_cpus = 1\nimport ray, ray_magics", JOB) as started:
        yield started


def test_a_displayed_bar_and_table_keep_their_last_drawn_state_as_text_plain(kernel):
    kernel.check("job = Job.remote()\nray.get(job.get_progress.remote())\nworking = job.work.remote()")
    bar = kernel.run("%actor_progress job --interval 0.1 --unit steps --description Job --wait")
    assert bar.displays == ["Job: live progress bar"]  # what it is, before it has drawn anything
    assert bar.updates[-1] == "Job: 100% (9/9 steps) done"
    assert 2 <= len(bar.updates) <= 4  # at most one a second while it moves (~2 s), and its end
    table = kernel.run("%actor_table job.stages --interval 0.1 --until DONE --wait")
    assert table.displays == ["Live table of job.stages"]
    assert table.updates == ["stage  state\nfit    DONE\njob.stages: 1 row, done (all DONE)"]


def test_a_view_displayed_after_it_ended_shows_its_last_state_at_once(kernel):
    kernel.check("job = Job.remote()\nray.get(job.work.remote())\nbar = ray_magics.progress(job, wait=True)")
    shown = kernel.run("bar")
    assert (shown.displays, shown.updates) == (["Progress: 100% (9/9) done"], [])


def test_display_text_prints_the_final_line_in_a_kernel_and_widgets_come_back(kernel):
    kernel.check('%config RayMagics.display = "text"')
    try:
        kernel.check("job = Job.remote()\nray.get(job.work.remote())")
        text = kernel.run("%actor_progress job --wait")
        assert (text.displays, text.stdout) == ([], "Progress: 100% (9/9) done\n")
    finally:
        kernel.check('%config RayMagics.display = "auto"')
    assert kernel.run("%actor_progress job --wait").displays == ["Progress: live progress bar"]


def test_a_bad_display_setting_is_refused(kernel):
    refused = kernel.run('%config RayMagics.display = "html"')  # (IPython's %config logs its one line)
    assert refused.stderr.count("\n") == 1 and "expected any of ['auto', 'widgets', 'text']" in refused.stderr
    assert kernel.value("get_ipython().find_magic('actors').__self__.display") == "auto"


TERMINAL_RUN = textwrap.dedent("""
    from IPython.testing.globalipapp import start_ipython
    shell = start_ipython()
    shell.run_line_magic("load_ext", "ray_magics")
    shell.run_line_magic("ray_init", "--num-cpus 1")
    shell.run_cell_magic("actor", "", '''{job}''')
    shell.run_cell("job = Job.remote(); import ray; ray.get(job.get_progress.remote()); working = job.work.remote()")
    shell.run_line_magic("actor_progress", "job --interval 0.1 --wait")
    shell.run_line_magic("ray_shutdown", "")
""").format(job=JOB.split("\n", 1)[1])


def run_in_terminal(as_tty: bool) -> str:
    """What a script driving the magics writes to its stdout: a tty (a pseudo-terminal), or a pipe."""
    command = [sys.executable, "-c", TERMINAL_RUN]
    if not as_tty:
        return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True).stdout
    leader, follower = pty.openpty()
    process = subprocess.Popen(command, stdout=follower, stderr=subprocess.DEVNULL)
    os.close(follower)
    written = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the follower side closed: the script has ended
            break
        if not chunk:
            break
        written += chunk
    os.close(leader)
    assert process.wait(timeout=120) == 0
    return written.decode().replace("\r\n", "\n")  # (the terminal's own line ends)


def test_in_a_terminal_the_bar_is_one_line_redrawn_in_place():
    written = run_in_terminal(as_tty=True)
    bar = written[written.index("\rProgress"):]
    states = [state.rstrip() for state in bar.split("\r") if state]
    assert len(states) >= 3 and states[0] == "Progress: 0% waiting for the first reading (0 s)"
    assert any(state.startswith("Progress: ") and "running" in state and "(0/9)" not in state for state in states[1:-1])
    assert re.match(r"Progress: 100% \(9/9\) done *\n", states[-1])  # (spaces clear a longer line before)


def test_in_a_log_the_bar_is_one_final_line_without_carriage_returns():
    written = run_in_terminal(as_tty=False)
    assert "\r" not in written
    assert "Progress: 100% (9/9) done\n" in written
    assert written.count("Progress:") == 1
