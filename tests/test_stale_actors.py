"""Stale actors, in a real ipykernel on an embedded Ray of 2 CPUs: a cell run again (the same cell id, as
JupyterLab sends it; else the same source) or an `%%actor` cell run again makes the earlier run's actors
stale; `%actors` shows the cell that created each and marks the stale ones, `--stale` lists only them,
`--kill-stale` ends them in one line; `RayMagics.on_rerun = "kill"` ends them as the cell runs again.
Named actors, and actors that other actors created, are never stale."""

import pytest

from .kernel_driver import kernel_with, text_table

ACTOR_CELL = """%%actor --num-cpus 1
class W:
    def ping(self):
        return 1
"""
BOSS_CELL = """%%actor --num-cpus 0
class Boss:
    def make(self):
        return [W.remote()]
"""
# Each cell ends with its actors' handles, which its output (`Out[n]`) then keeps, as people leave them: an actor
# no handle is left of ends by itself.
MAKE_TWO = "ws = [W.remote() for _ in range(2)]\nprint(ray.get([w.ping.remote() for w in ws], timeout=60))\nws"


@pytest.fixture(scope="module")
def kernel():
    with kernel_with("%load_ext ray_magics\n%ray_init --num-cpus 2\nimport ray") as started:
        started.check(ACTOR_CELL, cell_id="actor-cell")
        started.check(BOSS_CELL)
        yield started


@pytest.fixture
def clean(kernel):
    """The kernel, its actors all ended after the test, and its settings back to their defaults."""
    yield kernel
    kernel.check("%config RayMagics.on_rerun = 'keep'")
    kernel.check("from ray_magics.cluster.facts import read_actors\nfrom ray_magics.cells.ending_actors import end\n"
                 "end([facts for facts in read_actors() if facts.state != 'DEAD'])")


def listing(kernel, line: str = "") -> list[dict]:
    [table] = kernel.check(f"%actors {line}").displays
    return [] if table.startswith("No ") else text_table(table)


def cells(rows: list[dict]) -> list[tuple[str, str]]:
    return sorted((row["class"], row["cell"]) for row in rows)


def test_a_cell_run_again_with_its_cell_id_leaves_stale_actors_that_kill_stale_ends(clean):
    first = clean.check(MAKE_TWO, cell_id="make")
    assert first.stdout == "[1, 1]\n"
    second = clean.check("ws = [W.remote() for _ in range(2)]\nws", cell_id="make")  # CPUs held: the new ones wait
    assert cells(listing(clean)) == [("W", f"In [{first.count}] (stale)")] * 2 + [("W", f"In [{second.count}]")] * 2
    assert cells(listing(clean, "--stale")) == [("W", f"In [{first.count}] (stale)")] * 2
    assert clean.check("%actors --kill-stale").stdout == "ended 2 stale actors (W ×2), freeing CPU 2\n"
    assert clean.check("print(ray.get([w.ping.remote() for w in ws], timeout=60))").stdout == "[1, 1]\n"
    assert clean.check("%actors --stale").displays == ["No stale actors."]
    assert clean.check("%actors --kill-stale").stdout == "no stale actors\n"


def test_without_a_cell_id_the_same_source_is_the_same_cell(clean):
    solo = "solo = W.remote()\nray.get(solo.ping.remote(), timeout=60)\nsolo"
    first = clean.check(solo)
    again = clean.check(solo)
    other = clean.check("other = W.remote()")
    assert cells(listing(clean)) == sorted(
        [("W", f"In [{first.count}] (stale)"), ("W", f"In [{again.count}]"), ("W", f"In [{other.count}]")]
    )
    assert clean.check("%actors --kill-stale --class W").stdout == "ended 1 stale actor (W), freeing CPU 1\n"


def test_an_actor_cell_run_again_makes_the_actors_of_its_old_class_stale(clean):
    made = clean.check("old = W.remote()\nray.get(old.ping.remote(), timeout=60)", cell_id="use-old")
    clean.check(ACTOR_CELL, cell_id="actor-cell")
    new = clean.check("new = W.remote()", cell_id="use-new")
    assert cells(listing(clean)) == [("W", f"In [{made.count}] (stale)"), ("W", f"In [{new.count}]")]
    assert clean.check("%actors --kill-stale").stdout == "ended 1 stale actor (W), freeing CPU 1\n"


def test_named_actors_and_those_actors_create_are_never_stale_nor_ended(clean):
    boss_cell = "boss = Boss.remote()\ninner = ray.get(boss.make.remote(), timeout=60)\nboss"
    first = clean.check(boss_cell, cell_id="boss")
    clean.check(boss_cell, cell_id="boss")
    assert cells(listing(clean, "--stale")) == [("Boss", f"In [{first.count}] (stale)")]  # not the W it made
    assert ("W", "") in cells(listing(clean))
    named = "kept = W.options(name={!r}, num_cpus=0).remote()\nkept"
    clean.check(named.format("kept"), cell_id="named")
    clean.check(named.format("kept2"), cell_id="named")
    assert cells(listing(clean, "--stale")) == [("Boss", f"In [{first.count}] (stale)")]
    clean.check("%config RayMagics.on_rerun = 'kill'")
    assert clean.check(named.format("kept3"), cell_id="named").stdout == ""
    assert sorted(row["name"] for row in listing(clean) if row["name"]) == ["kept", "kept2", "kept3"]


def test_on_rerun_kill_ends_the_cells_earlier_actors_before_it_runs_again(clean):
    clean.check("%config RayMagics.on_rerun = 'kill'")
    clean.check(MAKE_TWO, cell_id="make")
    rerun = clean.check(MAKE_TWO, cell_id="make", timeout=30)
    assert rerun.stdout == "ended 2 actors of this cell's earlier runs (W ×2), freeing CPU 2\n[1, 1]\n"
    assert [text for text in rerun.displays if not text.startswith("[Actor(W")] == []  # placed at once: no wait
    assert len(listing(clean)) == 2


def test_kill_stale_with_another_option_is_one_line_and_changes_nothing(clean):
    before = clean.value("sorted(name for name in dir() if not name.startswith('_'))")
    result = clean.run("%actors --kill-stale --watch")
    assert result.stderr == "UsageError: %actors: --kill-stale takes only --class\n"
    assert clean.value("sorted(name for name in dir() if not name.startswith('_'))") == before
