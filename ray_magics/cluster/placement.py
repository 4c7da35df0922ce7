"""Why an actor waits to be placed: what it needs, what the nodes have free, and who holds the rest.

The facts are read from the GCS in one look (through Ray Client by a small task, `remote_read`)
and judged here as plain data. The GCS records what an actor holds while it lives; to be placed,
an actor given no resources needs a CPU on top (Ray's default), which its handle tells
(`ray_internals.placement_cpus`), else Ray's rule on what it holds.

An actor waits for resources while it is pending creation with no worker given to it and no
node has what it needs free. Two things look alike and are not waits: an actor whose worker is
still starting holds its resources already, though the GCS does not know it yet, so a shortage
that actors do not explain, with nothing queued for it, is taken for that; and an actor in a
placement group waits on its group's resources, which the nodes' free counts do not show.
"""

from collections import Counter
from dataclasses import dataclass, field

from .. import ray_internals
from .facts import ALIVE, EPSILON, PENDING_CREATION, NodeFacts, held_resources, hex_id, state_of_record
from .remote_read import on_cluster

MEMORY = {"memory", "object_store_memory"}  # what Ray's default still gives a placement CPU with
FEW_LEFT = 16  # actors no longer pending looked up one by one; more, in the table of the alive


@dataclass
class PendingActor:
    actor_id: str
    class_name: str
    needs: dict[str, float]  # to be placed
    leased: bool  # a worker was given to it: it runs its `__init__`, it does not wait for resources
    in_group: bool  # placed in a placement group, whose resources decide


@dataclass
class Holder:
    """An alive actor that holds resources while it lives."""

    actor_id: str
    class_name: str
    holds: dict[str, float]
    name: str = ""
    detached: bool = False


@dataclass
class PlacementFacts:
    pending: dict[str, PendingActor]  # of the actors asked about, those pending creation
    alive: set[str]  # of the actors asked about, those alive
    holders: list[Holder]  # every alive actor that holds resources (read only when one may wait)
    nodes: list[NodeFacts]  # the alive nodes (read only when one may wait)
    queued: Counter = field(default_factory=Counter)  # what the requests queued on the nodes need


@dataclass
class Wait:
    """Why one pending actor is not placed: a demand no node can meet (`lacking`), or resources held."""

    needs: dict[str, float]
    lacking: dict[str, float]  # needed amounts that no node has in all: the actor cannot start
    free: dict[str, float]  # of each needed resource, summed over the nodes
    total: dict[str, float]
    most_free: dict[str, float]  # of each needed resource, the most one node has free
    holders: list[Holder]  # the alive actors holding what it lacks
    others: dict[str, float]  # of what it lacks, the amounts held by something else (tasks, placement groups)

    @property
    def impossible(self) -> bool:
        return bool(self.lacking)


def read_placement(asked: dict[str, int | None], judge: bool = True) -> PlacementFacts:
    """The facts for the actors `asked` (hex id -> their `placement_cpus`, None if unknown); without
    `judge`, only which of them are pending."""
    return on_cluster(placement_facts, asked, judge)


def placement_facts(asked: dict[str, int | None], judge: bool = True) -> PlacementFacts:
    """`read_placement` where Ray's core worker is. The nodes and the holders are read only when an
    actor asked about may be waiting for resources."""
    table = ray_internals.gcs_protos().ActorTableData
    pending = {}
    for raw in ray_internals.actor_records(state_name=PENDING_CREATION):
        record = table.FromString(raw)
        actor = record.actor_id.hex()
        if actor in asked:
            pending[actor] = PendingActor(
                actor, record.class_name, placement_needs(held_resources(record), asked[actor]),
                leased=bool(hex_id(record.address.worker_id)), in_group=bool(hex_id(record.placement_group_id)),
            )
    left = set(asked) - set(pending)  # placed, or ended
    facts = PlacementFacts(pending, set(), [], [])
    if not judge:
        return facts
    if len(left) <= FEW_LEFT and not any(not actor.leased and not actor.in_group for actor in pending.values()):
        facts.alive = {actor for actor in left if _state(ray_internals.actor_records(actor)) == ALIVE}
        return facts
    for raw in ray_internals.actor_records(state_name=ALIVE):
        record = table.FromString(raw)
        actor = record.actor_id.hex()
        if actor in left:
            facts.alive.add(actor)
        if holds := held_resources(record):
            facts.holders.append(Holder(actor, record.class_name, holds, record.name, record.is_detached))
    for node in ray_internals.resource_usage():
        facts.nodes.append(NodeFacts(node.node_id, node.address, True, node.total, node.available))
        facts.queued.update(node.load)
    return facts


def _state(records: list[bytes]) -> str | None:
    return state_of_record(records[0]) if records else None


def placement_needs(holds: dict[str, float], placement_cpus: int | None) -> dict[str, float]:
    """What an actor needs to be placed, from what it holds while it lives and its `placement_cpus`
    (None: judged as Ray does, a CPU for an actor given no resources but memory)."""
    if placement_cpus is None:
        placement_cpus = 0 if set(holds) - MEMORY else 1
    if not placement_cpus:
        return dict(holds)
    return {"CPU": holds.get("CPU", 0) + placement_cpus, **{name: n for name, n in holds.items() if name != "CPU"}}


def why_waiting(actor: PendingActor, facts: PlacementFacts) -> Wait | None:
    """Why `actor` is not placed; None if it is not waiting for resources (see the module's doc)."""
    if actor.leased or actor.in_group:
        return None
    needs, nodes = actor.needs, facts.nodes
    total = {name: sum(node.total.get(name, 0) for node in nodes) for name in needs}
    free = {name: sum(node.available.get(name, 0) for node in nodes) for name in needs}
    most_free = {name: max((node.available.get(name, 0) for node in nodes), default=0) for name in needs}
    if not any(_fits(needs, node.total) for node in nodes):
        lacking = {name: n for name, n in needs.items() if all(node.total.get(name, 0) < n for node in nodes)}
        return Wait(needs, lacking or dict(needs), free, total, most_free, [], {})
    if any(_fits(needs, node.available) for node in nodes):
        return None  # it fits now: about to be placed
    short = [name for name, n in needs.items() if most_free[name] < n - EPSILON] or list(needs)
    holders = [holder for holder in facts.holders if any(holder.holds.get(name, 0) > 0 for name in short)]
    others = {}
    for name in short:
        rest = total[name] - free[name] - sum(holder.holds.get(name, 0) for holder in holders)
        if rest > EPSILON:
            others[name] = rest
    if all(others.get(name, 0) >= needs[name] - EPSILON and not facts.queued.get(name) for name in short):
        return None  # what holds it may be its own worker, still starting
    return Wait(needs, {}, free, total, most_free, holders, others)


def _fits(needs: dict[str, float], has: dict[str, float]) -> bool:
    return all(has.get(name, 0) >= n - EPSILON for name, n in needs.items())
