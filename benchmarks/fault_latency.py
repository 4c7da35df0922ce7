"""How fast the magics answer Ctrl-C and a direct `ray.shutdown()`, in real kernels.

Run from the repository root:

    .venv/bin/python -m benchmarks.fault_latency

Each Ctrl-C case runs `ATTEMPTS` times, each in a fresh ipykernel (driven through
tests/kernel_driver.py): the interrupt is sent while the cell is in the named phase, and
the time from the interrupt to the cell's end is reported (median and worst). Then, in one
kernel, six live views and a direct `ray.shutdown()`: how long the shutdown takes, and how
long after it returns every view has stopped. And Stop during a cell's 40 actor calls: from
the interrupt to the cell's "cancelled N pending actor calls" line, and how many queued calls
ran after it. Last, a kernel told to shut down (as the Jupyter server does on shutdown and
restart) with an actor alive: how long until its process exits, and which Ray processes are left,
for ray_magics's embedded Ray and for plain `ray.init()`. Targets are printed beside the figures;
they are measured, not asserted. About 3 minutes on 2 cores.
"""

import contextlib
import json
import statistics
import time

import psutil

from tests.kernel_driver import Kernel

ATTEMPTS = 3
TARGET_SECONDS = 1.0
ACTOR_CELL = "%%actor\nclass Job:\n    def get_progress(self):\n        return 0.5\n"
ENDLESS = (
    "%%actor --num-cpus 0\nclass Endless:\n    def get_progress(self):\n        return 0.5\n"
    "    def state(self):\n        return ['RUNNING']\n"
)
BUSY = (  # busy in C code that holds the GIL: not even its own concurrency group can read its counts
    "%%actor --num-cpus 0\nclass Busy:\n    def work(self, n):\n        return sum(range(n))\n"
)
NAPPER = (
    "%%actor --num-cpus 0\nclass Napper:\n    def nap(self, seconds):\n"
    "        import time\n        time.sleep(seconds)\n"
)
STOP_SETUP = ["%load_ext ray_magics", NAPPER, "import ray, ray_magics\nn = Napper.remote()\nray.get(n.nap.remote(0))"]
STOP_CELL = "ray.get([n.nap.remote(0.2) for _ in range(40)])"
RAN_AFTER_STOP = """
import time
time.sleep(0.3)
served = ray_magics.calls(n)["nap"]
time.sleep(1)
print(ray_magics.calls(n)["nap"] - served)
"""
CASES = [  # (what, cells run first, the cell interrupted, seconds into it)
    ("first %%actor while Ray is imported", ["%load_ext ray_magics"], ACTOR_CELL, 0.3),
    ("first %%actor while Ray starts", ["%load_ext ray_magics", "import ray"], ACTOR_CELL, 1.0),
    ("%actor_progress --wait", ["%load_ext ray_magics", ENDLESS, "h = Endless.remote()"],
     "%actor_progress h --interval 0.1 --wait", 1.0),
    ("%actors waiting for a busy actor's counts",
     ["%load_ext ray_magics", BUSY, "b = Busy.remote()", "b.work.remote(10**11)"], "%actors", 0.3),
]
SHUTDOWN_CELL = """
import json, time, ray, ray_magics
bars = [ray_magics.progress(Endless.remote(), interval=0.05) for _ in range(5)]
table = ray_magics.table(Endless.remote().state, interval=0.05)
while not (all(bar.bar.value == 0.5 for bar in bars) and table.polls):
    time.sleep(0.01)
views = [*bars, table]
started = time.monotonic()
ray.shutdown()
returned = time.monotonic()
while not all(view.finished.is_set() for view in views):
    time.sleep(0.001)
print(json.dumps([returned - started, time.monotonic() - returned, sorted({view.status for view in views})]))
"""


@contextlib.contextmanager
def fresh_kernel(setup: list[str]):
    """A new ipykernel that has run the cells `setup`; at the end its Ray is stopped first (so its
    processes end quietly), then the kernel."""
    kernel = Kernel()
    try:
        for code in setup:
            kernel.check(code)
        yield kernel
    finally:
        kernel.run("%ray_shutdown", timeout=60)
        kernel.close()


def interrupt_latency(setup: list[str], cell: str, after: float) -> float:
    """Seconds from Ctrl-C to the end of `cell`, in a fresh kernel."""
    with fresh_kernel(setup) as kernel:
        return kernel.interrupt_after(cell, after, timeout=120)[1]


def stop_latency() -> tuple[float, str, int]:
    """Stop during a cell's 40 calls to a sync actor, in a fresh kernel: seconds from the interrupt to
    the cell's end (its "cancelled" line printed), that line, and how many queued calls ran after it."""
    with fresh_kernel(STOP_SETUP) as kernel:
        result, seconds = kernel.interrupt_after(STOP_CELL, 1.0, timeout=120)
        return seconds, result.stdout.strip(), int(kernel.check(RAN_AFTER_STOP).stdout)


def shutdown_latency() -> tuple[float, float, list[str]]:
    with fresh_kernel(["%load_ext ray_magics", ENDLESS]) as kernel:
        return tuple(json.loads(kernel.check(SHUTDOWN_CELL).stdout))


WITH_RAY_MAGICS = ["%load_ext ray_magics", ACTOR_CELL, "import ray\nray.get(Job.remote().get_progress.remote())"]
WITH_PLAIN_RAY = ["import ray\nray.init(include_dashboard=False)",
                  "@ray.remote\nclass Job:\n    def get_progress(self):\n        return 0.5\n"
                  "ray.get(Job.remote().get_progress.remote())"]
EXIT_WAIT = 30.0  # seconds a kernel is given to exit after the request (ipykernel's own loop takes ~29 s)


def kernel_shutdown(setup: list[str]) -> tuple[float | None, list[str]]:
    """A fresh kernel that ran `setup`, told to shut down: seconds until its process exited (None:
    not within `EXIT_WAIT`), and the names of its child processes still running 3 s later."""
    kernel = Kernel()
    children = []
    try:
        for code in setup:
            kernel.check(code)
        process = psutil.Process(kernel.value("__import__('os').getpid()"))
        children = process.children(recursive=True)
        started = time.monotonic()
        kernel.manager.request_shutdown()
        exited = None
        while time.monotonic() - started < EXIT_WAIT:
            if not _running(process):
                exited = time.monotonic() - started
                break
            time.sleep(0.05)
        time.sleep(3)
        return exited, sorted({child.name() for child in children if _running(child)})
    finally:
        kernel.manager.shutdown_kernel(now=True)
        kernel.client.stop_channels()
        for child in children:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()


def _running(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def verdict(seconds: float) -> str:
    return "met" if seconds < TARGET_SECONDS else "missed"


def main():
    print(f"Ctrl-C: seconds from the interrupt to the cell's end ({ATTEMPTS} fresh kernels each)")
    for what, setup, cell, after in CASES:
        times = [interrupt_latency(setup, cell, after) for _ in range(ATTEMPTS)]
        print(f"  {what:<45} median {statistics.median(times):.2f} s, worst {max(times):.2f} s "
              f"(target < {TARGET_SECONDS:g} s: {verdict(max(times))})")
    stops = [stop_latency() for _ in range(ATTEMPTS)]
    times = [seconds for seconds, _, _ in stops]
    print(f"\nStop during a cell's 40 calls to a sync actor ({ATTEMPTS} fresh kernels): interrupt to the "
          f"cancelled line, median {statistics.median(times):.2f} s, worst {max(times):.2f} s "
          f"(target < {TARGET_SECONDS:g} s: {verdict(max(times))}); queued calls that ran after Stop: "
          f"{[ran for _, _, ran in stops]} (must be 0); lines: {sorted({line for _, line, _ in stops})}")
    took, stopped_after, statuses = shutdown_latency()
    print(f"\nDirect ray.shutdown() with 6 live views: it took {took:.2f} s; every view stopped "
          f"{stopped_after:.3f} s after it returned (target < {TARGET_SECONDS:g} s: {verdict(stopped_after)}); "
          f"statuses {statuses}")
    print("\nA kernel told to shut down, an actor alive (the server sends SIGTERM after 2.5 s by default):")
    for what, setup in (("ray_magics", WITH_RAY_MAGICS), ("plain ray.init()", WITH_PLAIN_RAY)):
        exited, left = kernel_shutdown(setup)
        took = f"exited after {exited:.2f} s" if exited is not None else f"still running after {EXIT_WAIT:g} s"
        print(f"  {what:<18} {took}; processes left 3 s later: {left or 'none'}")


if __name__ == "__main__":
    main()
