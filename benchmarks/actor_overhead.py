"""What ray_magics costs: actor call throughput, `%load_ext` time, embedded Ray memory.

Run from the repository root:

    .venv/bin/python -m benchmarks.actor_overhead

It prints three measurements (about 2-3 minutes on 2 cores):

1. Throughput of 1:1 actor calls for one class body made into an actor three ways: a plain
   `@ray.remote` cell, an `%%actor` cell (tracked) and an `%%actor --no-track` cell, all in
   a real IPython shell. Two more are plain: one with a concurrency group of its own, as a
   tracked actor has (Ray's own cost of that group), and one again (the noise floor). Each is called
   sequentially (`ray.get` per call) and in batches (submit a batch, then `ray.get` the
   list), for a sync and an async actor. Each variant has several actors: one actor process
   can run a few percent faster or slower than another of the same class for the whole run
   (where the machine's scheduler put it), which one actor per variant takes for the
   variant's cost. After a warm-up, every actor takes turns in shuffled order over several
   rounds: one call each (sequential), so that each actor is called as often as the others, or
   one batch each. Reported: each variant's median calls/s; its ratio to plain, pooled over
   its actors within each round (the median of the rounds, with the lowest and highest) and
   over the whole run. Beside the measured sync sequential ratio, a modelled one, labelled
   as such: plain's measured call time plus what tracking adds to a direct in-process call
   of the method. Then what the kernel adds to each call (its listeners, for Stop and the
   prints), measured as its main thread's CPU with them on and off on one actor; and where a
   sync actor's sequential call spends its time (the CPU of the actor's process and of the
   kernel's, and the wall time) for one plain actor, one with a group and one tracked.
2. The time of `%load_ext ray_magics` in fresh processes, and whether it imported Ray.
3. The RSS of the processes the default `%ray_init` starts (driver excluded), and whether
   `%ray_shutdown` leaves any of them behind.

Targets are printed beside the figures; they are measured, not asserted.
The module also runs itself as the fresh processes of 2 and 3 (the `child-*` arguments).
"""

import contextlib
import io
import json
import os
import random
import statistics
import subprocess
import sys
import textwrap
import time
import timeit

import psutil

from .reporting import new_shell, print_table

# Ray, IPython and ray_magics are imported inside functions only: this module also runs as
# the fresh processes that time `%load_ext`, which must find none of them imported.

ROUNDS = 7
ACTORS_PER_VARIANT = 4
SEQUENTIAL_ROUND_SECONDS = 4.0  # a round of sequential calls; a batch round is one batch per actor
WARMUP_SECONDS = 0.2
BATCH = 1000
TRACKED_TARGET = 0.99
TRACKING_COST_CALLS = 200_000
KERNEL_COST_PAIRS = 30
KERNEL_COST_CALLS = 1000
CPU_SPLIT_BLOCKS = 6
CPU_SPLIT_CALLS = 2000  # a block: enough calls that the CPU clock's 10 ms tick is 5 µs a call
CPU_SPLIT_VARIANTS = ("plain", "plain, a group", "tracked")

LOAD_EXT_RUNS = 5
LOAD_EXT_TARGET_MS = 50

SETTLE_SECONDS = 5
RSS_TARGET_MB = 900
EXIT_TIMEOUT = 60
READY = "READY"

SYNC_BODY = """
class {name}:
    def __init__(self):
        self.count = 0

    def ping(self):
        self.count += 1
        return self.count
"""
ASYNC_BODY = """
class {name}:
    def __init__(self):
        self.count = 0

    async def ping(self):
        self.count += 1
        return self.count
"""
ACTOR_KINDS = {"sync": SYNC_BODY, "async": ASYNC_BODY}
MAGIC = "%%actor"
# Variant name, and the first line of its cell (a decorator, or the %%actor line); the
# plain class with one concurrency group of its own is Ray's cost of the group a tracked actor has.
VARIANTS = (
    ("plain", "@ray.remote"),
    ("tracked", MAGIC),
    ("untracked", f"{MAGIC} --no-track"),
    ("plain, a group", '@ray.remote(concurrency_groups={"own": 1})'),
    ("plain again", "@ray.remote"),
)


def mb(count_bytes: int) -> float:
    """Bytes in MiB."""
    return count_bytes / 2**20


# 1. Throughput ------------------------------------------------------------------------


def define_actor_class(shell, kind, variant, first_line):
    """Run one actor cell in the shell and return the actor class it made."""
    name = f"{''.join(filter(str.isalnum, variant.title()))}{kind.title()}Counter"
    body = ACTOR_KINDS[kind].format(name=name)
    if first_line.startswith(MAGIC):
        shell.run_cell_magic("actor", first_line.removeprefix(MAGIC).strip(), body)
    else:
        shell.run_cell(f"import ray\n{first_line}{body}").raise_error()
    return shell.user_ns[name]


def start_actors(shell, kind):
    """`ACTORS_PER_VARIANT` live actors of `kind` per variant: `{variant: [handles]}`."""
    import ray

    by_variant = {}
    for variant, first_line in VARIANTS:
        actor_class = define_actor_class(shell, kind, variant, first_line)
        by_variant[variant] = [actor_class.remote() for _ in range(ACTORS_PER_VARIANT)]
    ray.get([actor.ping.remote() for actors in by_variant.values() for actor in actors])
    return by_variant


def stop_actors(by_variant):
    """Kill the actors, so that those of the next kind are measured alone."""
    import ray

    for actors in by_variant.values():
        for actor in actors:
            ray.kill(actor)


def warm_up(by_variant):
    """Call every actor in every mode for `WARMUP_SECONDS`."""
    for actors in by_variant.values():
        for actor in actors:
            for run in MODES.values():
                run(actor, WARMUP_SECONDS)


def sequential_calls(handle, seconds):
    """One `ray.get(handle.ping.remote())` after another, for at least one call and `seconds`:
    (calls, seconds taken)."""
    import ray

    calls = 0
    start = time.perf_counter()
    while True:
        ray.get(handle.ping.remote())
        calls += 1
        if (elapsed := time.perf_counter() - start) >= seconds:
            return calls, elapsed


def batch_calls(handle, seconds):
    """Batches of `BATCH` calls, each submitted then got at once, for at least one batch
    and `seconds`: (calls, seconds taken)."""
    import ray

    calls = 0
    start = time.perf_counter()
    while True:
        ray.get([handle.ping.remote() for _ in range(BATCH)])
        calls += BATCH
        if (elapsed := time.perf_counter() - start) >= seconds:
            return calls, elapsed


MODES = {"sequential": sequential_calls, f"batch {BATCH}": batch_calls}


def measure_round(mode, by_variant, shuffler):
    """(Calls, seconds) per variant, pooled over its actors, the actors taking turns in a new
    shuffled order each pass, so that load elsewhere on the machine hits all alike: a call each
    for `SEQUENTIAL_ROUND_SECONDS` (sequential), or one batch each. With a call as the turn,
    every actor is called as often as the others (one called more often answers sooner) and a
    change of load between two calls hits every variant alike."""
    turns = [(variant, actor) for variant, actors in by_variant.items() for actor in actors]
    pooled = {variant: [0, 0.0] for variant in by_variant}
    end = time.perf_counter() + (SEQUENTIAL_ROUND_SECONDS if mode == "sequential" else 0)
    while True:
        shuffler.shuffle(turns)
        for variant, actor in turns:
            made, taken = MODES[mode](actor, 0)
            pooled[variant][0] += made
            pooled[variant][1] += taken
        if time.perf_counter() >= end:
            return pooled


def measure_rounds(kind, by_variant, shuffler):
    """(Calls, seconds) per (kind, mode) and variant: one pair per round."""
    rates = {(kind, mode): {variant: [] for variant in by_variant} for mode in MODES}
    for _ in range(ROUNDS):
        for (_, mode), rounds in rates.items():
            for variant, pooled in measure_round(mode, by_variant, shuffler).items():
                rounds[variant].append(pooled)
    return rates


def check_tracking(kind, by_variant):
    """One line per tracked actor: the calls it counted against the calls it served."""
    import ray

    import ray_magics

    lines = []
    for index, handle in enumerate(by_variant["tracked"]):
        served = ray.get(handle.ping.remote())
        counted = ray_magics.calls(handle)["ping"]
        verdict = "exact" if counted == served else "WRONG"
        lines.append(f"{kind} tracked actor {index + 1} counted {counted} of {served} calls served ({verdict})")
    return lines


def seconds_per_call(method, calls=TRACKING_COST_CALLS):
    """The best of a few timings of `calls` direct calls of `method`, per call."""
    return min(timeit.repeat(method, number=calls, repeat=5)) / calls


def rate(pooled):
    """Calls/s of one (calls, seconds) pair."""
    calls, seconds = pooled
    return calls / seconds


def round_ratios(by_variant, variant):
    """`variant`/plain within each round (where the variants ran interleaved), over the rounds."""
    return [rate(mine) / rate(plain) for mine, plain in zip(by_variant[variant], by_variant["plain"], strict=True)]


def whole_ratio(by_variant, variant):
    """`variant`/plain over the whole run: all calls over all seconds, of each."""
    return rate(total(by_variant[variant])) / rate(total(by_variant["plain"]))


def total(pairs):
    """The (calls, seconds) of all rounds."""
    return sum(calls for calls, _ in pairs), sum(seconds for _, seconds in pairs)


def spread(ratios):
    """Ratios as their median, with the lowest and highest."""
    return f"{statistics.median(ratios):.3f} ({min(ratios):.3f}-{max(ratios):.3f})"


def verdict(by_variant):
    """The tracked target against the whole run's tracked/plain, beside the noise floor: plain
    again/plain, two variants that differ in nothing."""
    tracked = whole_ratio(by_variant, "tracked")
    noise = abs(whole_ratio(by_variant, "plain again") - 1)
    if tracked - noise >= TRACKED_TARGET:
        return "met"
    if tracked + noise < TRACKED_TARGET:
        return "missed"
    return "met, within noise" if tracked >= TRACKED_TARGET else "missed, within noise"


def throughput_rows(rates):
    """Table rows: median calls/s per variant, then each variant's ratios to plain and the target."""
    rows = []
    for (kind, mode), by_variant in rates.items():
        rows.append((
            f"{kind} actor, {mode}",
            *(f"{statistics.median(map(rate, by_variant[variant])):,.0f}" for variant, _ in VARIANTS),
            *(f"{spread(round_ratios(by_variant, variant))} {whole_ratio(by_variant, variant):.3f}"
              for variant, _ in VARIANTS[1:]),
            verdict(by_variant),
        ))
    return rows


def print_headline(by_variant):
    """The measured tracked/plain ratio of sequential calls of a sync actor."""
    tracked = round_ratios(by_variant, "tracked")
    print(
        f"  measured: tracked/plain for sequential calls of a sync actor = {whole_ratio(by_variant, 'tracked'):.3f}"
        f" over the run (rounds: median {statistics.median(tracked):.3f}, lowest {min(tracked):.3f},"
        f" highest {max(tracked):.3f}); plain again/plain = {whole_ratio(by_variant, 'plain again'):.3f};"
        f" target ≥ {TRACKED_TARGET}: {verdict(by_variant)}"
    )


def print_kernel_cost(shell):
    """Measured on one tracked sync actor, where the actors' noise does not reach: the CPU of
    the kernel's main thread per sequential call, with the kernel's listeners of each call
    (Stop's, the prints') on and then off, `KERNEL_COST_PAIRS` times; their difference."""
    import ray

    from ray_magics.classes import submissions

    with contextlib.redirect_stdout(io.StringIO()):
        actor = define_actor_class(shell, "sync", "kernel cost", MAGIC).remote()
    ray.get([actor.ping.remote() for _ in range(BATCH)])
    listeners = submissions._listeners.all
    on, off = [], []
    try:
        for _ in range(KERNEL_COST_PAIRS):
            for listening, times in ((listeners, on), ((), off)):
                submissions._listeners.all = listening
                started = time.thread_time()
                for _ in range(KERNEL_COST_CALLS):
                    ray.get(actor.ping.remote())
                times.append((time.thread_time() - started) / KERNEL_COST_CALLS)
    finally:
        submissions._listeners.all = listeners
    ray.kill(actor)
    added = [with_them - without for with_them, without in zip(on, off, strict=True)]
    print(
        f"  measured: the kernel's listeners add {statistics.median(added) * 1e6:.1f} µs of its main thread's CPU"
        f" to a sequential call (median of {KERNEL_COST_PAIRS} pairs of {KERNEL_COST_CALLS:,} calls with them on,"
        f" then off; the main thread spends {statistics.median(off) * 1e6:.0f} µs per call without them)"
    )


def print_cpu_split(shell):
    """Where a sync actor's sequential call spends its time, for one actor of each of
    `CPU_SPLIT_VARIANTS`: the CPU of the actor's process and of this (the kernel's) process, and
    the wall time, per call; the medians of `CPU_SPLIT_BLOCKS` blocks, the variants in turn."""
    import ray

    from ray_magics.cluster.facts import one_actor_facts
    from ray_magics.ray_internals import actor_id

    first_lines = dict(VARIANTS)
    with contextlib.redirect_stdout(io.StringIO()):
        actors = {variant: define_actor_class(shell, "sync", variant, first_lines[variant]).remote()
                  for variant in CPU_SPLIT_VARIANTS}
    ray.get([actor.ping.remote() for actor in actors.values()])
    kernel = psutil.Process()
    processes = {variant: psutil.Process(one_actor_facts(actor_id(actor)).pid) for variant, actor in actors.items()}
    blocks = {variant: [] for variant in actors}
    for _ in range(CPU_SPLIT_BLOCKS):
        for variant, actor in actors.items():
            before = (cpu_seconds(processes[variant]), cpu_seconds(kernel), time.perf_counter())
            for _ in range(CPU_SPLIT_CALLS):
                ray.get(actor.ping.remote())
            after = (cpu_seconds(processes[variant]), cpu_seconds(kernel), time.perf_counter())
            blocks[variant].append([(end - start) / CPU_SPLIT_CALLS for start, end in zip(before, after, strict=True)])
    for actor in actors.values():
        ray.kill(actor)
    medians = {variant: [statistics.median(part) * 1e6 for part in zip(*rows, strict=True)]
               for variant, rows in blocks.items()}
    print(f"  measured, one sync actor each, {CPU_SPLIT_BLOCKS} blocks of {CPU_SPLIT_CALLS:,} sequential calls,"
          " per call (medians):")
    for variant, (actor_cpu, kernel_cpu, wall) in medians.items():
        print(f"    {variant:<16} actor process CPU {actor_cpu:4.0f} µs, kernel process CPU {kernel_cpu:4.0f} µs,"
              f" wall {wall:5.0f} µs (/plain {medians['plain'][2] / wall:.3f})")


def cpu_seconds(process):
    """User and system CPU seconds of a process so far."""
    times = process.cpu_times()
    return times.user + times.system


def print_modelled(plain_sequential_rate):
    """A model, not a measurement: the same ratio if a tracked Ray call cost a plain one plus
    what tracking adds to a direct call of the method, timed in-process where Ray's noise does not reach."""
    from ray_magics.classes.counting import tracked_class

    namespace = {}
    exec(SYNC_BODY.format(name="Plain"), namespace)  # noqa: S102 - the benchmark's own class body
    plain = namespace["Plain"]()
    tracked = tracked_class(namespace["Plain"])()
    added = seconds_per_call(tracked.ping) - seconds_per_call(plain.ping)
    ray_call = 1 / plain_sequential_rate
    print(
        f"  modelled, not measured: tracking adds {added * 1e6:.2f} µs to a direct in-process call"
        f" (best of 5 × {TRACKING_COST_CALLS:,}); the model adds that to the median plain sequential"
        f" Ray call ({ray_call * 1e6:.0f} µs, measured) and nothing else, giving tracked/plain ="
        f" {ray_call / (ray_call + added):.4f}"
    )


def benchmark_throughput():
    """Section 1: define the actors in an IPython shell, measure, report, shut Ray down."""
    print("1. Throughput of 1:1 actor calls, calls/s")
    print(
        f"  {ACTORS_PER_VARIANT} actors per variant; {ROUNDS} rounds, in each every actor takes turns of one call"
        f" for {SEQUENTIAL_ROUND_SECONDS:g} s (sequential), or one turn of one batch, all in shuffled order"
    )
    print(f"  sequential: one ray.get per call ('sync'); batch: {BATCH} calls submitted, then one ray.get ('async')")
    print("  ratios to plain, pooled over each variant's actors: the median of the rounds (lowest-highest),"
          " then over the whole run")
    print(f"  target tracked/plain ≥ {TRACKED_TARGET} over the run; 'within noise' when nearer to it than"
          " plain again/plain is to 1")
    print("  each kind's actors alone: those of the other kind are started after, or killed before")
    shell = new_shell()
    rates, tracking, shuffler = {}, [], random.Random(0)
    with contextlib.redirect_stdout(io.StringIO()) as setup:
        shell.run_line_magic("load_ext", "ray_magics")
        shell.run_line_magic("ray_init", "")
    for kind in ACTOR_KINDS:
        with contextlib.redirect_stdout(setup):
            by_variant = start_actors(shell, kind)
        warm_up(by_variant)
        rates.update(measure_rounds(kind, by_variant, shuffler))
        tracking += check_tracking(kind, by_variant)
        stop_actors(by_variant)
    print(textwrap.indent(setup.getvalue(), "  | "))
    print_table(
        ("actor, mode", *(variant for variant, _ in VARIANTS),
         *(f"{variant}/plain: rounds, run" for variant, _ in VARIANTS[1:]), "target"),
        throughput_rows(rates),
    )
    sync_sequential = rates[("sync", "sequential")]
    print_headline(sync_sequential)
    print_modelled(statistics.median(map(rate, sync_sequential["plain"])))
    print_kernel_cost(shell)
    print_cpu_split(shell)
    for line in tracking:
        print(f"  {line}")
    with contextlib.redirect_stdout(io.StringIO()):
        shell.run_line_magic("ray_shutdown", "")


# 2. %load_ext time ---------------------------------------------------------------------


def child_load_ext():
    """In a fresh process: time `%load_ext ray_magics` alone; print it as JSON."""
    shell = new_shell()
    start = time.perf_counter()
    shell.run_line_magic("load_ext", "ray_magics")
    elapsed = time.perf_counter() - start
    ray_imported = any(name == "ray" or name.startswith("ray.") for name in sys.modules)
    print(json.dumps({"ms": 1000 * elapsed, "ray_imported": ray_imported}))


def run_child(mode, **popen_options):
    """Start this module as a fresh process running `child_<mode>`."""
    return subprocess.Popen([sys.executable, "-m", __spec__.name, f"child-{mode}"], text=True, **popen_options)


def benchmark_load_ext():
    """Section 2: `%load_ext ray_magics` in `LOAD_EXT_RUNS` fresh processes."""
    results = []
    for _ in range(LOAD_EXT_RUNS):
        child = run_child("load-ext", stdout=subprocess.PIPE)
        output, _ = child.communicate(timeout=EXIT_TIMEOUT)
        if child.returncode:
            raise RuntimeError(f"the %load_ext process failed with exit code {child.returncode}")
        results.append(json.loads(output.splitlines()[-1]))
    times = [result["ms"] for result in results]
    median = statistics.median(times)
    met = "met" if median <= LOAD_EXT_TARGET_MS else "missed"
    print(f"\n2. %load_ext ray_magics in a fresh process (IPython shell already created), {LOAD_EXT_RUNS} runs")
    print(f"  median {median:.1f} ms   (runs: {', '.join(f'{ms:.1f}' for ms in times)} ms)")
    print(f"  target ≤ {LOAD_EXT_TARGET_MS} ms: {met}")
    print(f"  ray imported by it: {any(result['ray_imported'] for result in results)} (must be False)")


# 3. Memory of the embedded Ray -----------------------------------------------------------


def child_ray_init():
    """In a fresh process: `%ray_init` with the defaults, wait for a line, `%ray_shutdown`."""
    shell = new_shell()
    shell.run_line_magic("load_ext", "ray_magics")
    start = time.perf_counter()
    shell.run_line_magic("ray_init", "")
    print(READY, f"{time.perf_counter() - start:.1f}", flush=True)
    sys.stdin.readline()
    shell.run_line_magic("ray_shutdown", "")


def process_label(process):
    """A process's name, or the script a Python process runs."""
    name = process.name()
    if name.startswith("python"):
        script = next((arg for arg in process.cmdline()[1:] if arg.endswith(".py")), None)
        return os.path.basename(script) if script else name
    return name


def memory_rows(processes):
    """(label, pid, RSS bytes, PSS bytes) per process still alive, largest RSS first."""
    rows = []
    for process in processes:
        try:
            with process.oneshot():
                memory = process.memory_full_info()
                rows.append((process_label(process), process.pid, memory.rss, memory.pss))
        except psutil.NoSuchProcess:
            continue
    return sorted(rows, key=lambda row: row[2], reverse=True)


def leftovers(processes):
    """The processes still running (zombies count as gone) after `EXIT_TIMEOUT` s at most."""
    _, alive = psutil.wait_procs(processes, timeout=EXIT_TIMEOUT)
    running = []
    for process in alive:
        try:
            if process.status() != psutil.STATUS_ZOMBIE:
                running.append(process)
        except psutil.NoSuchProcess:
            continue
    return running


def wait_until_ready(child):
    """Read the child's output up to its ready line; return the seconds `%ray_init` took."""
    for line in child.stdout:
        if line.startswith(READY):
            return float(line.split()[1])
    raise RuntimeError(f"the %ray_init process ended before Ray was up (exit code {child.wait()})")


def stop_if_running(child):
    """Kill a child that did not finish, with the Ray processes it started."""
    if child.poll() is not None:
        return
    driver = psutil.Process(child.pid)
    processes = [driver, *driver.children(recursive=True)]
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    psutil.wait_procs(processes, timeout=EXIT_TIMEOUT)


def benchmark_memory():
    """Section 3: RSS of what the default `%ray_init` starts, and what `%ray_shutdown` leaves."""
    child = run_child("ray-init", stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        started_in = wait_until_ready(child)
        time.sleep(SETTLE_SECONDS)
        driver = psutil.Process(child.pid)
        ray_processes = driver.children(recursive=True)
        rows = memory_rows(ray_processes)
        driver_rss = driver.memory_info().rss
        child.stdin.write("shut down\n")
        child.stdin.flush()
        child.communicate(timeout=EXIT_TIMEOUT)
    finally:
        stop_if_running(child)
    remaining = leftovers(ray_processes)
    total = sum(row[2] for row in rows)
    met = "met" if mb(total) <= RSS_TARGET_MB else "missed"
    print(
        f"\n3. Memory of the embedded default Ray (%ray_init took {started_in:.1f} s; "
        f"measured {SETTLE_SECONDS} s later), driver excluded"
    )
    print_table(
        ("process", "pid", "RSS MB", "PSS MB"),
        [(label, pid, f"{mb(rss):.0f}", f"{mb(pss):.0f}") for label, pid, rss, pss in rows]
        + [("total", "", f"{mb(total):.0f}", f"{mb(sum(row[3] for row in rows)):.0f}")],
    )
    print(f"  total RSS {mb(total):.0f} MB, target ≤ {RSS_TARGET_MB} MB: {met}")
    print(f"  driver (not counted): {mb(driver_rss):.0f} MB RSS")
    print(f"  after %ray_shutdown: process exit code {child.returncode}, Ray processes left: {len(remaining)}")
    for process in remaining:
        with contextlib.suppress(psutil.NoSuchProcess):
            print(f"    killing leftover {process.pid} {process_label(process)}")
            process.kill()


def load_average():
    """The 1, 5 and 15 minute load averages against the CPU count: is the machine busy?"""
    return f"{' / '.join(f'{load:.2f}' for load in os.getloadavg())} on {os.cpu_count()} CPUs"


CHILDREN = {"child-load-ext": child_load_ext, "child-ray-init": child_ray_init}


def main():
    """Run the three benchmarks, or one fresh child process when given its argument."""
    if len(sys.argv) > 1:
        CHILDREN[sys.argv[1]]()
        return
    sys.stdout.reconfigure(line_buffering=True)
    start = time.perf_counter()
    print(f"Load average before the run: {load_average()}\n")
    benchmark_throughput()
    benchmark_load_ext()
    benchmark_memory()
    print(f"\nTotal time {time.perf_counter() - start:.0f} s; load average after the run: {load_average()}")


if __name__ == "__main__":
    main()
