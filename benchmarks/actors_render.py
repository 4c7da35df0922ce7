"""What `%actors` costs: drawing 1,000 rows, and reading a real cluster's actors.

Run from the repository root:

    .venv/bin/python -m benchmarks.actors_render [REAL_ACTORS]

1. Renders 1,000 synthetic actors (HTML for the widget, aligned text for `repr`); the
   target is ≤ 200 ms. Median of several runs. Then the same actors with their origins: each
   created by one of 100 cell runs, a third of them stale, their `cell` column judged from the
   origins record and drawn; the target is ≤ 50 ms.
2. Starts REAL_ACTORS (default 20) tracked actors with num_cpus=0 on an embedded Ray
   (on 2 cores each new actor costs about 2 s: 200 took 7.5 minutes), then times the GCS read, the call-count
   read and the render of them separately.
"""

import statistics
import sys
import time

RENDER_TARGET_MS = 200
WITH_ORIGINS_TARGET_MS = 50
CELL_RUNS = 100
SYNTHETIC = 1000
RUNS = 7


def synthetic_listing(count: int):
    from ray_magics.classes.counting import CallCounts
    from ray_magics.cluster.facts import ActorFacts
    from ray_magics.live.actors_view import Listing

    now = int(time.time() * 1000)
    actors = [
        ActorFacts(
            actor_id=f"{index:032x}", class_name=f"Worker{index % 7}", name=f"<w{index}>",
            state="DEAD" if index % 10 == 0 else "ALIVE", pid=10_000 + index, node_id="ab" * 14,
            restarts=index % 3, start_ms=now - index * 1000, end_ms=now if index % 10 == 0 else 0,
            death_cause="The actor is dead because it was killed by `ray.kill`." if index % 10 == 0 else "",
        )
        for index in range(count)
    ]
    counts = {facts.actor_id: CallCounts({"step": index, "get": 2}, {"step": index % 2}) for index, facts in
              enumerate(actors)}
    return Listing(actors, counts, now)


def origins_of(actors):
    """An origins record in which each of `actors` was created by one of `CELL_RUNS` cell runs, the
    runs of a third of the cells superseded since."""
    from ray_magics.cells.origins import CellOrigins, CellRun, Origin

    origins = CellOrigins(None, None)
    runs = [CellRun(f"cell-{index}", "ws = [W.remote() for _ in range(10)]", index + 1) for index in range(CELL_RUNS)]
    for index, facts in enumerate(actors):
        run = runs[index % CELL_RUNS]
        origins.origins[facts.actor_id] = Origin(run, None)
        origins.latest_of[run.cell] = run
    for run in runs[::3]:
        origins.latest_of[run.cell] = CellRun(run.cell_id, run.source, run.count + CELL_RUNS)
    return origins


def with_origins_ms(listing) -> tuple[float, float]:
    """`%actors`'s work beyond reading the cluster, with origins: the cell labels, then HTML and text."""
    from ray_magics.live.actors_view import cell_labels, render_html, render_text

    origins = origins_of(listing.actors)

    def draw(render):
        listing.cells = cell_labels(origins, listing.actors)
        render(listing)

    return median_ms(lambda: draw(render_html)), median_ms(lambda: draw(render_text))


def median_ms(action) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure_render(listing) -> tuple[float, float]:
    from ray_magics.live.actors_view import render_html, render_text

    return median_ms(lambda: render_html(listing)), median_ms(lambda: render_text(listing))


def main(real_actors: int) -> None:
    html_ms, text_ms = measure_render(synthetic_listing(SYNTHETIC))
    print(f"render {SYNTHETIC} synthetic actors: HTML {html_ms:.1f} ms, text {text_ms:.1f} ms "
          f"(target ≤ {RENDER_TARGET_MS} ms)")
    html_ms, text_ms = with_origins_ms(synthetic_listing(SYNTHETIC))
    print(f"render {SYNTHETIC} synthetic actors with their origins ({CELL_RUNS} cell runs, a third superseded): "
          f"HTML {html_ms:.1f} ms, text {text_ms:.1f} ms (target ≤ {WITH_ORIGINS_TARGET_MS} ms)")

    import ray

    import ray_magics
    from ray_magics.classes.count_reader import CallCountReader
    from ray_magics.cluster.facts import read_actors
    from ray_magics.live.actors_view import Listing, choose

    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR")
    try:
        @ray_magics.actor(num_cpus=0)
        class Tiny:
            def ping(self):
                return 1

        started = time.perf_counter()
        handles = [Tiny.remote() for _ in range(real_actors)]
        ray.get([handle.ping.remote() for handle in handles])
        print(f"started {real_actors} real actors in {time.perf_counter() - started:.1f} s")
        read_ms = median_ms(read_actors)
        actors = choose(read_actors(), include_dead=False, class_name=None)
        reader = CallCountReader()
        started = time.perf_counter()
        counts = reader.read(actors, timeout=10)
        first_counts_ms = (time.perf_counter() - started) * 1000
        counts_ms = median_ms(lambda: reader.read(actors, timeout=10))
        answered = sum(value is not None for value in counts.values())
        html_ms, text_ms = measure_render(Listing(actors, counts, int(time.time() * 1000)))
        print(f"real {len(actors)} actors: GCS read {read_ms:.1f} ms; call counts {first_counts_ms:.0f} ms first "
              f"(handles built), {counts_ms:.0f} ms after ({answered} answered); "
              f"render HTML {html_ms:.1f} ms, text {text_ms:.1f} ms")
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
