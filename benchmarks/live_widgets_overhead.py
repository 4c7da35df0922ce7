"""What the live widgets cost: a progress bar on a real workload, and idle widgets' refresher.

Run from the repository root:

    .venv/bin/python -m benchmarks.live_widgets_overhead [pi | refresher]

It prints (about 4 minutes on 2 cores; name one part to run only that one):

1. The π Monte Carlo workload of Ray's "Monte Carlo estimation of π" tutorial (a progress
   actor, one sampling task per CPU reporting every `FREQUENCY_REPORT` samples), scaled to
   about `WORKLOAD_SECONDS` s, run in a real IPython shell after `%load_ext ray_magics` and
   `%ray_init`: without a progress bar and with a live `ray_magics.progress(actor)` bar at
   the default interval, in the order none, bar, bar, none. Widgets are forced on
   (`RAY_MAGICS_WIDGETS=1`); without a front end they only change traits, which is the
   cost measured. The medians' ratio bar/none is reported, and each bar's final state.
2. In a fresh ipykernel (driven through tests/kernel_driver.py, so the widgets send their
   changes as in a notebook): the CPU of the refresher thread alone with `IDLE_WIDGETS`
   idle live progress bars displayed (their method returns a constant `(0, 100)`, so they
   never finish), once with the bars on 5 actors and once on 50 (one each), over
   `CPU_WINDOW_SECONDS` s, read per thread with psutil; and the CPU of the whole kernel
   process over as long, minus that of a window with no widgets. Then the time
   `REFRESHER.end_all` takes to stop them all. Then plain Ray beside it: the CPU of one thread
   making the same calls as a user's own loop would (each interval a `.remote()` per bar and a
   `ray.get` of the batch) on as many plain `@ray.remote` actors, over as long.
3. A pointer to `python -m benchmarks.actors_render` for the time `%actors` takes to render.

Targets are printed beside the figures; they are measured, not asserted. Everything
the script starts (Ray, its actors, the refresher thread) is stopped before it ends.
"""

import contextlib
import io
import json
import os
import statistics
import sys
import textwrap
import time

import psutil

from tests.kernel_driver import Kernel

from .reporting import new_shell, print_table

# Forced on before ray_magics is imported: a plain IPython shell would get the text fallback.
os.environ["RAY_MAGICS_WIDGETS"] = "1"

WORKLOAD_SECONDS = 20
FREQUENCY_REPORT = 1_000_000
CALIBRATION_SAMPLES = 3_000_000  # per task, in the warm-up run that times one sample
ORDER = ("none", "bar", "bar", "none")
BAR_TARGET = 1.02
FINISH_TIMEOUT = 10

IDLE_WIDGETS = 50
IDLE_ACTOR_COUNTS = (5, 50)  # the bars share 5 actors (10 each), then each has its own (each new actor ~1 s)
CPU_WINDOW_SECONDS = 20
SETTLE_SECONDS = 2
REFRESHER_TARGET = 1.0  # % of one core
EXIT_TIMEOUT = 60

# The tutorial's actor and task (https://docs.ray.io/en/latest/ray-core/examples/monte_carlo_pi.html),
# the actor made by `%%actor`, with `get_progress` returning the `(done, total)` pair a bar reads.
PROGRESS_ACTOR_CELL = """
class ProgressActor:
    def __init__(self, total_num_samples):
        self.total_num_samples = total_num_samples
        self.num_samples_completed_per_task = {}

    def report_progress(self, task_id, num_samples_completed):
        self.num_samples_completed_per_task[task_id] = num_samples_completed

    def get_progress(self):
        return sum(self.num_samples_completed_per_task.values()), self.total_num_samples
"""
SAMPLING_TASK_CELL = f"""
import math
import random

import ray

FREQUENCY_REPORT = {FREQUENCY_REPORT}

@ray.remote
def sampling_task(num_samples, task_id, progress_actor):
    num_inside = 0
    for i in range(num_samples):
        x, y = random.uniform(-1, 1), random.uniform(-1, 1)
        if math.hypot(x, y) <= 1:
            num_inside += 1
        if (i + 1) % FREQUENCY_REPORT == 0:
            progress_actor.report_progress.remote(task_id, i + 1)
    progress_actor.report_progress.remote(task_id, num_samples)
    return num_inside
"""
IDLE_ACTOR_CELL = """
class IdleProgress:
    def get_progress(self):
        return 0, 100
"""


def met(ok: bool) -> str:
    return "met" if ok else "missed"


def quietly(action):
    """Run `action()` with its printed output (displays in a terminal shell) kept aside."""
    with contextlib.redirect_stdout(io.StringIO()):
        return action()


def load_average():
    """The 1, 5 and 15 minute load averages against the CPU count: is the machine busy?"""
    return f"{' / '.join(f'{load:.2f}' for load in os.getloadavg())} on {os.cpu_count()} CPUs"


# 1. The π workload, with and without a progress bar ----------------------------------------


def run_pi(shell, actor, num_samples, tasks, with_bar):
    """One run of the workload on a ready progress actor: (seconds, π estimate, the bar or None).

    The clock covers making and displaying the bar, submitting the tasks and getting their
    results; the bar's last refresh (after the tasks' final reports reach the actor) is
    waited for outside it.
    """
    import ray
    from IPython.display import display

    import ray_magics

    sampling_task = shell.user_ns["sampling_task"]
    start = time.perf_counter()
    view = None
    if with_bar:
        view = ray_magics.progress(actor, description="π samples", unit="samples")
        quietly(lambda: display(view))
    refs = [sampling_task.remote(num_samples, task_id, actor) for task_id in range(tasks)]
    inside = sum(ray.get(refs))
    elapsed = time.perf_counter() - start
    if view is not None:
        view.wait(FINISH_TIMEOUT)
    return elapsed, 4 * inside / (num_samples * tasks), view


def bar_state(view) -> str:
    if view is None:
        return "-"
    ok = view.bar.bar_style == "success" and view.bar.value == 1.0 and view.finished.is_set()
    return f"bar_style {view.bar.bar_style!r}, value {view.bar.value!r} ({'ok' if ok else 'WRONG'})"


def benchmark_progress_bar(shell):
    """Section 1: warm up and size the workload, then time the runs in `ORDER`."""
    import ray

    from ray_magics.live.api import interval_or_default

    tasks = os.cpu_count()
    ns = shell.user_ns
    quietly(lambda: shell.run_cell_magic("actor", "", PROGRESS_ACTOR_CELL))
    shell.run_cell(SAMPLING_TASK_CELL).raise_error()

    # A first run exports the task and warms its workers up; a second one times a sample.
    warm_up = ns["ProgressActor"].remote(CALIBRATION_SAMPLES * tasks)
    ray.get(warm_up.get_progress.remote())
    run_pi(shell, warm_up, FREQUENCY_REPORT, tasks, with_bar=False)
    warm_seconds, _, _ = run_pi(shell, warm_up, CALIBRATION_SAMPLES, tasks, with_bar=False)
    ray.kill(warm_up)
    sample_seconds = warm_seconds / CALIBRATION_SAMPLES
    num_samples = max(1, round(WORKLOAD_SECONDS / sample_seconds / FREQUENCY_REPORT)) * FREQUENCY_REPORT
    # Every run's actor starts before the first run: a new actor's worker process would load a run.
    timed = [ns["ProgressActor"].remote(num_samples * tasks) for _ in ORDER]
    ray.get([actor.get_progress.remote() for actor in timed])

    print(
        f"1. π Monte Carlo (Ray tutorial): {tasks} sampling tasks × {num_samples:,} samples, "
        f"a report every {FREQUENCY_REPORT:,}"
    )
    print(
        f"  sized from a timed warm-up run of {CALIBRATION_SAMPLES:,} samples per task "
        f"({sample_seconds * 1e6:.3f} µs per sample per task) to about {WORKLOAD_SECONDS} s"
    )
    print("  bar: ray_magics.progress(actor) at the default interval "
          f"({interval_or_default(None):g} s), widgets forced on, displayed")
    rows = []
    times = {"none": [], "bar": []}
    for index, (arm, actor) in enumerate(zip(ORDER, timed, strict=True), start=1):
        elapsed, pi, view = run_pi(shell, actor, num_samples, tasks, with_bar=arm == "bar")
        times[arm].append(elapsed)
        rows.append((f"run {index}: {arm}", f"{elapsed:.2f}", f"{pi:.5f}", bar_state(view),
                     repr(view) if view else "-"))
    for actor in timed:
        ray.kill(actor)
    print_table(("run", "wall s", "π", "bar at the end", "repr(bar)"), rows)
    none, bar = statistics.median(times["none"]), statistics.median(times["bar"])
    ratio = bar / none
    print(f"  median wall time: none {none:.2f} s, bar {bar:.2f} s; bar/none = {ratio:.3f} "
          f"(target ≤ {BAR_TARGET}: {met(ratio <= BAR_TARGET)})")


# 2. The refresher with idle widgets, in a real kernel -------------------------------------------

# Runs in the kernel: a baseline window with no widget, then a window with the bars displayed.
REFRESHER_WINDOWS = """
import json, time
import psutil, ray, ray_magics
import threading
from ray_magics.live.refresher import REFRESHER, THREAD_NAME
from ray_magics.live.api import interval_or_default

def refresher_thread():
    return next((t for t in threading.enumerate() if t.name == THREAD_NAME), None)

def thread_cpu(process, native_id):
    return next(t.user_time + t.system_time for t in process.threads() if t.id == native_id)

def process_cpu(process):
    times = process.cpu_times()
    return times.user + times.system

def polls_served(handles):
    return sum(ray_magics.calls(handle).polls.get("get_progress", 0) for handle in handles)

process = psutil.Process()
started = time.perf_counter()
handles = [IdleProgress.remote() for _ in range({actors})]
ray.get([handle.get_progress.remote() for handle in handles])
actors_seconds = time.perf_counter() - started

assert refresher_thread() is None, "a refresher is already running"
cpu_before, wall_before = process_cpu(process), time.perf_counter()
time.sleep({window})
baseline = (process_cpu(process) - cpu_before) / (time.perf_counter() - wall_before)

views = [ray_magics.progress(handles[index % {actors}]) for index in range({widgets})]
for view in views:
    display(view)
time.sleep({settle})
thread = refresher_thread()
polls_before = polls_served(handles)
def now():
    return thread_cpu(process, thread.native_id), process_cpu(process), time.perf_counter()

thread_before, cpu_before, wall_before = now()
time.sleep({window})
thread_after, cpu_after, wall_after = now()
window = wall_after - wall_before
polls = polls_served(handles) - polls_before
live = sum(not view.finished.is_set() for view in views)

started = time.perf_counter()
REFRESHER.end_all("benchmark over")
stop_seconds = time.perf_counter() - started
stopped = sum(view.status == "failed: benchmark over" and view.bar.bar_style == "danger" for view in views)
for handle in handles:
    ray.kill(handle)

# Plain Ray, as a user's own loop would poll: one thread, each interval one `get_progress.remote()`
# per bar, then `ray.get` of the batch, on as many plain `@ray.remote` actors.
import threading
plain = [ray.remote(num_cpus=0)(ray_magics.original(IdleProgress)).remote() for _ in range({actors})]
ray.get([handle.get_progress.remote() for handle in plain])
stop = threading.Event()
def plain_loop(interval=interval_or_default(None)):
    targets = [plain[index % {actors}] for index in range({widgets})]
    turn = time.perf_counter()
    while not stop.is_set():
        ray.get([handle.get_progress.remote() for handle in targets])
        turn += interval
        stop.wait(max(0.0, turn - time.perf_counter()))
loop = threading.Thread(target=plain_loop)
loop.start()
time.sleep({settle})
loop_before, wall_before = thread_cpu(process, loop.native_id), time.perf_counter()
time.sleep({window})
plain_loop_cpu = (thread_cpu(process, loop.native_id) - loop_before) / (time.perf_counter() - wall_before)
stop.set()
loop.join()
for handle in plain:
    ray.kill(handle)
print(json.dumps(dict(plain_loop=plain_loop_cpu,
    actors_seconds=actors_seconds, interval=interval_or_default(None), native_id=thread.native_id,
    refresher=(thread_after - thread_before) / window, with_widgets=(cpu_after - cpu_before) / window,
    baseline=baseline, polls_per_second=polls / window, live=live, stop_seconds=stop_seconds, stopped=stopped,
    thread_alive=thread.is_alive(),
)))
"""


def benchmark_refresher(actors: int):
    """Section 2 with the bars on `actors` actors, in a fresh ipykernel (its widgets send their changes as a
    notebook's do)."""
    from ray_magics.live.refresher import THREAD_NAME

    kernel = Kernel()
    try:
        kernel.check("%load_ext ray_magics\n%ray_init")
        kernel.check("%%actor --num-cpus 0" + IDLE_ACTOR_CELL)
        cell = REFRESHER_WINDOWS.format(actors=actors, widgets=IDLE_WIDGETS, window=CPU_WINDOW_SECONDS,
                                        settle=SETTLE_SECONDS)
        figures = json.loads(kernel.check(cell, timeout=300).stdout.strip().splitlines()[-1])
        shutdown = kernel.check("%ray_shutdown", timeout=EXIT_TIMEOUT).stdout.strip()
    finally:
        kernel.close()
    interval, refresher = figures["interval"], 100 * figures["refresher"]
    print(f"\n2. The refresher with {IDLE_WIDGETS} idle live progress bars (get_progress returns (0, 100)), "
          f"default interval {interval:g} s, in a real ipykernel")
    print(f"  on {actors} tracked actors, {IDLE_WIDGETS // actors} bar(s) each "
          f"(started in {figures['actors_seconds']:.1f} s); windows of {CPU_WINDOW_SECONDS} s, the bars displayed")
    with_widgets, baseline = 100 * figures["with_widgets"], 100 * figures["baseline"]
    plain_loop = 100 * figures["plain_loop"]
    print_table(
        ("window", "% of one core", "target"),
        [
            (f"refresher thread ({THREAD_NAME}, native id {figures['native_id']})", f"{refresher:.2f}",
             f"≤ {REFRESHER_TARGET:g}% {met(refresher <= REFRESHER_TARGET)}"),
            ("plain Ray: a thread making the same calls (.remote() per bar, ray.get of the batch)",
             f"{plain_loop:.2f}", f"refresher/plain {refresher / plain_loop:.2f}"),
            ("kernel process with the bars", f"{with_widgets:.2f}", ""),
            ("kernel process, no widget (baseline)", f"{baseline:.2f}", ""),
            ("kernel process: with bars - baseline", f"{with_widgets - baseline:.2f}", ""),
        ],
    )
    print(f"  polls served during the window: {figures['polls_per_second']:.1f}/s (expected "
          f"{IDLE_WIDGETS / interval:g}/s: {IDLE_WIDGETS} bars / {interval:g} s); bars still live: "
          f"{figures['live']} of {IDLE_WIDGETS}")
    print(f"  REFRESHER.end_all took {1000 * figures['stop_seconds']:.1f} ms; bars stopped with the reason: "
          f"{figures['stopped']} of {IDLE_WIDGETS}; refresher thread still alive: {figures['thread_alive']}; "
          f"then {shutdown!r}")


# Set-up and tear-down --------------------------------------------------------------------------


def stop_ray(shell):
    """`%ray_shutdown`, then: how many of the Ray processes it started are left (killed if any)."""
    driver = psutil.Process()
    ray_processes = driver.children(recursive=True)
    quietly(lambda: shell.run_line_magic("ray_shutdown", ""))
    _, alive = psutil.wait_procs(ray_processes, timeout=EXIT_TIMEOUT)
    left = []
    for process in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            if process.status() != psutil.STATUS_ZOMBIE:
                left.append(process)
                process.kill()
    return len(ray_processes), len(left)


PARTS = ("pi", "refresher")


def benchmark_pi():
    """Section 1, in this process's IPython shell."""
    shell = new_shell()
    with contextlib.redirect_stdout(io.StringIO()) as setup:
        shell.run_line_magic("load_ext", "ray_magics")
        shell.run_line_magic("ray_init", "")
    print(textwrap.indent(setup.getvalue().strip(), "  | "), end="\n\n")
    try:
        benchmark_progress_bar(shell)
    finally:
        started, left = stop_ray(shell)
    print(f"  %ray_shutdown: {started} Ray processes had been started, {left} left running")


def main(parts=PARTS):
    start = time.perf_counter()
    print(f"Load average before the run: {load_average()}\n")
    if "pi" in parts:
        benchmark_pi()
    if "refresher" in parts:
        for actors in IDLE_ACTOR_COUNTS:
            benchmark_refresher(actors)
    print("\n3. The render time of %actors (1,000 rows, and a real cluster's actors): "
          "see python -m benchmarks.actors_render (not re-measured here)")
    print(f"\nTotal time {time.perf_counter() - start:.0f} s; load average after the run: {load_average()}")


if __name__ == "__main__":
    chosen = sys.argv[1:] or PARTS
    if not set(chosen) <= set(PARTS):
        sys.exit(f"usage: python -m benchmarks.live_widgets_overhead [{' | '.join(PARTS)}]")
    main(chosen)
