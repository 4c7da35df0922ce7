"""How fast an actor's print reaches the cell, and what a cell's wait for its actors' lines costs.

Run from the repository root:

    .venv/bin/python -m benchmarks.print_latency

In one real ipykernel (driven through tests/kernel_driver.py), an actor prints the time it
prints at, `LINES` times, a fraction of a second apart, while its cell runs; the front end's
side notes when each line arrives. Reported: the latency from the print to the line in the
cell (median and worst), for a tracked actor (shown in the calling cell) and for a plain Ray
actor (Ray's own printing) side by side. Then the time a cell takes that makes one call and
prints nothing, tracked and plain: the tracked cell's end asks its actor how many lines it
wrote (`cells.prints`). Targets are printed beside the figures; they are measured, not
asserted. About a minute on 2 cores.
"""

import statistics
import time

from tests.kernel_driver import Kernel

LINES = 30
CELLS = 30
TARGET_SECONDS = 1.0
ACTORS = """%%actor
import time
class Stamper:
    def stamp(self):
        print(f"at {time.time():.6f}")
    def nothing(self):
        return None
"""
PLAIN = """%%actor --no-track
import time
class PlainStamper:
    def stamp(self):
        print(f"at {time.time():.6f}")
    def nothing(self):
        return None
"""
SETUP = ["%load_ext ray_magics", ACTORS, PLAIN,
         "import ray, time\ntracked, plain = Stamper.remote(), PlainStamper.remote()\n"
         "ray.get([tracked.nothing.remote(), plain.nothing.remote()])"]


def latencies(kernel: Kernel, actor: str) -> list[float]:
    """Seconds from each of `LINES` prints of `actor` to its line reaching the front end."""
    request = kernel.submit(f"for _ in range({LINES}):\n    {actor}.stamp.remote()\n    time.sleep(0.2)\ntime.sleep(2)")
    seen = []
    deadline = time.monotonic() + LINES * 0.2 + 10
    while len(seen) < LINES and time.monotonic() < deadline:
        message = kernel.client.get_iopub_msg(timeout=deadline - time.monotonic())
        arrived = time.time()
        if message["msg_type"] == "stream":
            seen += [arrived - float(line.rsplit("at ", 1)[1]) for line in message["content"]["text"].splitlines()
                     if "at " in line]
        if (message["msg_type"] == "status" and message["content"]["execution_state"] == "idle"
                and message["parent_header"].get("msg_id") == request):
            break
    return seen


def cell_seconds(kernel: Kernel, actor: str) -> list[float]:
    """Seconds each of `CELLS` cells takes that makes one call to `actor`, printing nothing."""
    return [kernel.check(f"ray.get({actor}.nothing.remote())").seconds for _ in range(CELLS)]


def main():
    kernel = Kernel()
    try:
        for code in SETUP:
            kernel.check(code)
        print(f"From an actor's print to its line in the cell ({LINES} lines each):")
        for what, actor in (("tracked (in the calling cell)", "tracked"), ("plain Ray actor", "plain")):
            times = latencies(kernel, actor)
            print(f"  {what:<30} median {statistics.median(times):.3f} s, worst {max(times):.3f} s, "
                  f"{len(times)} of {LINES} lines arrived (target < {TARGET_SECONDS:g} s: "
                  f"{'met' if max(times) < TARGET_SECONDS else 'missed'})")
        tracked, plain = cell_seconds(kernel, "tracked"), cell_seconds(kernel, "plain")
        print(f"\nA cell making one call that prints nothing ({CELLS} cells each): tracked median "
              f"{statistics.median(tracked) * 1000:.1f} ms, plain median {statistics.median(plain) * 1000:.1f} ms "
              f"(the tracked cell's end asks its actor how many lines it wrote)")
    finally:
        kernel.run("%ray_shutdown", timeout=60)
        kernel.close()


if __name__ == "__main__":
    main()
