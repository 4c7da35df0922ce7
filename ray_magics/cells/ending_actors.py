"""Actors ended from the notebook: one (`ray_magics.kill`), the stale ones, those of superseded
cell runs (`origins`), on `%actors --kill-stale`, and a cell's earlier actors when it runs again,
with `RayMagics.on_rerun = "kill"`.

An actor is ended as `ray.kill` ends it: at once, without restarts (`cluster.kills`). The line
says what was ended and what it frees: `ended 2 stale actors (W ×2), freeing CPU 2`.
"""

from collections import Counter

from ..cluster.actor_lookup import find_actor
from ..cluster.facts import ALIVE, DEAD, ActorFacts, read_actor, read_actors
from ..cluster.kills import end_actors
from ..errors import InputError, plural
from ..session import lifecycle
from .cell_events import CellBehaviour
from .origins import CellOrigins
from .wait_lines import amounts

KILL = "kill"  # `on_rerun`'s value that ends a cell's earlier actors when it runs again


def kill(actor) -> str:
    """End `actor` (a handle, or 8 or more hex digits of its id) as `ray.kill` does: at once,
    without restarts. Returns the line that says so and what it frees: `ended 1 actor (W), freeing
    CPU 1`. An actor already dead is refused, with its death cause."""
    lifecycle.check_running()
    facts = read_actor(find_actor(actor))
    if facts is None:
        raise InputError("the GCS no longer knows that actor")
    if facts.state == DEAD:
        cause = facts.death_cause or "no cause given"
        raise InputError(f"{facts.class_name} ({facts.short_id}) is already dead: {cause}")
    if not facts.handle_spec:
        raise InputError(f"{facts.class_name} ({facts.short_id}) is not a Python actor: ray_magics cannot end it")
    return ended_line(end([facts]), "actor")


def stale_actors(origins: CellOrigins | None, actors: list[ActorFacts]) -> list[ActorFacts]:
    """Of `actors`, those not dead that `origins` judges stale (none without a record)."""
    if origins is None:
        return []
    return [facts for facts in actors if facts.state != DEAD and origins.stale(facts)]


def end_stale(origins: CellOrigins | None, class_name: str | None = None) -> str:
    """End every stale actor (of class `class_name`, if given); the line that says so."""
    actors = [facts for facts in read_actors() if class_name is None or facts.class_name == class_name]
    return ended_line(end(stale_actors(origins, actors)), "stale actor")


def end(actors: list[ActorFacts]) -> list[ActorFacts]:
    """End `actors`; those ended (an actor that is not a Python one cannot be)."""
    endable = [facts for facts in actors if facts.handle_spec]
    end_actors([facts.handle_spec for facts in endable])
    return endable


def ended_line(ended: list[ActorFacts], kind: str, whose: str = "") -> str:
    """`ended 2 stale actors (W ×2, P), freeing CPU 2`; `no stale actors` if none."""
    if not ended:
        return f"no {kind}s"
    classes = Counter(facts.class_name for facts in ended)
    named = ", ".join(name if count == 1 else f"{name} ×{count}" for name, count in classes.most_common())
    freed: Counter = Counter()
    for facts in ended:
        if facts.state == ALIVE:
            freed.update(facts.holds)
    freeing = f", freeing {amounts(dict(freed))}" if freed else ""
    return f"ended {plural(len(ended), kind)}{whose} ({named}){freeing}"


class RerunEnds(CellBehaviour):
    """With `settings.on_rerun == "kill"`, a cell that runs again first ends the actors its earlier
    runs created (those `origins` judges stale because of it), and says so in one line."""

    def __init__(self, shell, settings, origins: CellOrigins):
        super().__init__(shell, settings)
        self.origins = origins

    def cell_starts(self, info) -> None:
        running = self.origins.running
        if self.settings.on_rerun != KILL or running is None:
            return
        earlier = self.origins.created_by_earlier_runs(running)
        if not earlier:
            return
        facts = [each for each in read_actors() if each.actor_id in earlier]
        ended = end(stale_actors(self.origins, facts))
        if ended:
            print(ended_line(ended, "actor", " of this cell's earlier runs"), flush=True)
