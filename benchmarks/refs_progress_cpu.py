"""What a progress bar over 10,000 ObjectRefs costs the refresher thread.

Run from the repository root:

    .venv/bin/python -m benchmarks.refs_progress_cpu

In a real IPython shell after `%load_ext ray_magics` and `%ray_init`, with widgets forced on
(`RAY_MAGICS_WIDGETS=1`; without a front end they only change traits, which is the cost
measured), one `ray_magics.progress(refs)` bar at `INTERVAL` s over `REFS` refs:

1. finishing: `REFS` short tasks run while the bar counts them, until the bar is done;
2. pending: the refs' tasks wait on a task that never ends, so each poll is one `ray.wait`
   over all of them, for `WINDOW_SECONDS` s.

The refresher thread's CPU (user + system, read per thread with psutil) is printed as a
share of one core, beside the target (≤ 2%); and, for scale, the time plain Ray takes for
one `ray.wait(refs, timeout=0, fetch_local=False)` over the same refs after a pause as long
as the bar's interval: on a small VM such a wait costs about three times what one right after
another does, and the pending figure is mostly that cost. Everything started
is stopped before the script ends.
"""

import contextlib
import io
import os
import statistics
import time

import psutil

from .reporting import new_shell, print_table

os.environ["RAY_MAGICS_WIDGETS"] = "1"

REFS = 10_000
INTERVAL = 0.5
WINDOW_SECONDS = 20
TARGET = 2.0  # % of one core
TASK_SECONDS = 0.002
SCALE_WAITS = 10


def refresher_cpu() -> float:
    """CPU seconds the refresher thread has used so far."""
    from ray_magics.live.refresher import REFRESHER

    native = REFRESHER.thread.native_id
    found = next(thread for thread in psutil.Process().threads() if thread.id == native)
    return found.user_time + found.system_time


def plain_wait_cpu(ray, refs) -> float:
    """The CPU seconds of one plain `ray.wait` over `refs`, made as the bar makes it: after a pause of
    `INTERVAL` s (the median of `SCALE_WAITS`)."""
    spent = []
    for _ in range(SCALE_WAITS):
        time.sleep(INTERVAL)
        started = time.thread_time()
        ray.wait(refs, num_returns=len(refs), timeout=0, fetch_local=False)
        spent.append(time.thread_time() - started)
    return statistics.median(spent)


def share(cpu: float, seconds: float) -> str:
    return f"{100 * cpu / seconds:.2f}%"


def main():
    shell = new_shell()
    shell.run_line_magic("load_ext", "ray_magics")
    with contextlib.redirect_stdout(io.StringIO()):
        shell.run_line_magic("ray_init", "")
    import ray

    import ray_magics

    @ray.remote
    def never_ends():
        time.sleep(3600)

    @ray.remote
    def step(_=None):
        time.sleep(TASK_SECONDS)

    rows = []
    finishing = [step.remote() for _ in range(REFS)]
    bar = ray_magics.progress(finishing, interval=INTERVAL)
    time.sleep(0.2)
    cpu, clock = refresher_cpu(), time.monotonic()
    bar.wait()
    elapsed = time.monotonic() - clock
    rows.append(("finishing", f"{elapsed:.1f} s", share(refresher_cpu() - cpu, elapsed), repr(bar)))

    blocker = never_ends.remote()  # (never cancelled: Ray's shutdown ends it and the tasks waiting on it)
    pending = [step.remote(blocker) for _ in range(REFS)]
    one_wait = plain_wait_cpu(ray, pending)
    bar = ray_magics.progress(pending, interval=INTERVAL)
    time.sleep(1)
    cpu, clock = refresher_cpu(), time.monotonic()
    time.sleep(WINDOW_SECONDS)
    rows.append(("pending", f"{WINDOW_SECONDS} s", share(refresher_cpu() - cpu, time.monotonic() - clock), repr(bar)))
    bar.end()

    print(f"A bar over {REFS:,} ObjectRefs at a {INTERVAL} s interval: the refresher thread's CPU "
          f"(target ≤ {TARGET:g}% of a core)")
    print_table(("refs", "window", "CPU of one core", "the bar at the end"), rows)
    print(f"  for scale, plain Ray: one ray.wait(refs, timeout=0, fetch_local=False) over {REFS:,} "
          f"pending refs, after a pause of {INTERVAL} s as the bar's, takes {one_wait * 1000:.1f} ms of CPU "
          f"(median of {SCALE_WAITS}; {share(one_wait, INTERVAL)} of a core if done every {INTERVAL} s)")
    with contextlib.redirect_stdout(io.StringIO()):
        shell.run_line_magic("ray_shutdown", "")


if __name__ == "__main__":
    main()
