"""How soon a cell run again gets its actors, with `RayMagics.on_rerun = "kill"`.

Run from the repository root:

    .venv/bin/python -m benchmarks.rerun_placement

On an embedded Ray of 2 CPUs, in a real IPython shell, a cell (sent with a cell id, as
JupyterLab sends it) creates 2 actors of 1 CPU each, calls both and keeps their handles in its
output, as people leave them. It is run again `RUNS` times: each time, `on_rerun = "kill"` ends
the earlier run's actors as the cell starts, and the cell's new actors can be placed. Reported:
the median and worst time from the cell's start to its end (both new actors placed and answered);
the target is ≤ 1 s. Beside it, the same with plain Ray as a user would write it: a cell that
first kills the actors it made last time, then makes new ones (`ray.kill` in the cell itself).
"""

import statistics
import time

from IPython.utils.capture import capture_output

RUNS = 10
TARGET_S = 1.0
CELL = "ws = [W.remote() for _ in range(2)]\nray.get([w.ping.remote() for w in ws])\nws"
BY_HAND = "for w in ws:\n    ray.kill(w)\n" + CELL
ACTOR_CELL = "%%actor --num-cpus 1\nclass W:\n    def ping(self):\n        return 1\n"


def timed_runs(shell, source: str, cell_id: str) -> list[float]:
    """Seconds each of `RUNS` runs of the cell took (after a first run, not counted)."""
    times = []
    with capture_output():  # (each run shows its actors' handles)
        shell.run_cell(CELL, store_history=True, cell_id=cell_id).raise_error()
        for _ in range(RUNS):
            started = time.perf_counter()
            result = shell.run_cell(source, store_history=True, cell_id=cell_id)
            times.append(time.perf_counter() - started)
            result.raise_error()
    return times


def report(label: str, times: list[float]) -> float:
    median = statistics.median(times)
    print(f"{label}: median {median:.2f} s, worst {max(times):.2f} s of {len(times)} runs (target ≤ {TARGET_S:.0f} s)")
    return median


def main() -> None:
    from IPython.testing.globalipapp import start_ipython

    shell = start_ipython()
    shell.run_cell("%load_ext ray_magics\n%ray_init --num-cpus 2\nimport ray", store_history=True)
    shell.run_cell(ACTOR_CELL, store_history=True)
    try:
        shell.run_line_magic("config", "RayMagics.on_rerun = 'kill'")
        with_magics = report("re-run with on_rerun = 'kill'", timed_runs(shell, CELL, "rerun"))
        shell.run_line_magic("config", "RayMagics.on_rerun = 'keep'")
        shell.run_cell("for w in ws:\n    ray.kill(w)")
        by_hand = report("plain Ray, the cell kills its last actors itself", timed_runs(shell, BY_HAND, "by-hand"))
        print(f"ratio (on_rerun / by hand): {with_magics / by_hand:.2f}")
    finally:
        shell.run_line_magic("ray_shutdown", "")


if __name__ == "__main__":
    main()
