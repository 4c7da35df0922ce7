"""Facts about the connected Ray cluster, read from Ray's GCS (no dashboard needed).

The facts are plain data: through Ray Client they are read by a task on the cluster and
sent back (`remote_read`).
"""

from collections import Counter
from dataclasses import dataclass, field

from .. import ray_internals
from .remote_read import on_cluster

SHORT_ID = 8
NIL_ID = "ff"  # an all-ff id (such as the node of an actor not placed yet) means none
HEAD_RESOURCE = "node:__internal_head__"
PYTHON_CLASS = "python_function_descriptor"
EPSILON = 1e-9  # resources are counted in ten-thousandths: below this, nothing
# The GCS's words for an actor's state, the alive first as a summary counts them: the one
# vocabulary of every listing, summary, view and count read.
ALIVE, PENDING_CREATION, DEPENDENCIES_UNREADY, RESTARTING, DEAD = ACTOR_STATES = (
    "ALIVE", "PENDING_CREATION", "DEPENDENCIES_UNREADY", "RESTARTING", "DEAD",
)


@dataclass
class NodeFacts:
    node_id: str
    address: str
    alive: bool
    total: dict
    available: dict

    @property
    def short_id(self) -> str:
        return self.node_id[:SHORT_ID]


@dataclass
class ActorFacts:
    """One actor as the GCS records it; times in ms since the epoch, 0 while unknown."""

    actor_id: str
    class_name: str
    name: str
    state: str
    pid: int
    node_id: str
    restarts: int
    start_ms: int
    end_ms: int
    death_cause: str
    handle_spec: bytes = field(default=b"", repr=False, compare=False)  # a serialized handle; b"" if not Python
    detached: bool = False
    holds: dict[str, float] = field(default_factory=dict)  # the resources it holds while it lives

    @property
    def short_id(self) -> str:
        return self.actor_id[:SHORT_ID]

    @property
    def short_node_id(self) -> str:
        return self.node_id[:SHORT_ID]

    def uptime(self, now_ms: int) -> float | None:
        """Seconds alive: until now, or until its end for a dead actor; None if it never started."""
        if not self.start_ms:
            return None
        until = self.end_ms if self.state == DEAD and self.end_ms else now_ms
        return max(0, until - self.start_ms) / 1000


@dataclass
class ClusterFacts:
    ray_version: str
    gcs_address: str
    dashboard_url: str
    nodes: list[NodeFacts]
    actor_states: Counter = field(default_factory=Counter)

    @property
    def alive_nodes(self) -> list[NodeFacts]:
        return [node for node in self.nodes if node.alive]

    def total(self, resource: str) -> float:
        return sum(node.total.get(resource, 0) for node in self.alive_nodes)

    def used(self, resource: str) -> float:
        return sum(
            node.total.get(resource, 0) - node.available.get(resource, 0)
            for node in self.alive_nodes
        )


def read_cluster(with_actors: bool = True) -> ClusterFacts:
    """One consistent look at the cluster this process is connected to."""
    return on_cluster(cluster_facts, with_actors)


def cluster_facts(with_actors: bool) -> ClusterFacts:
    """`read_cluster` where Ray's core worker is; nodes listed head first, dead ones last."""
    import ray

    available = ray_internals.available_resources_per_node()
    nodes = sorted((
        NodeFacts(
            node_id=node["NodeID"],
            address=node["NodeManagerAddress"],
            alive=node["Alive"],
            total=node["Resources"],
            available=available.get(node["NodeID"], {}),
        )
        for node in ray.nodes()
    ), key=lambda node: (not node.alive, HEAD_RESOURCE not in node.total, node.address, node.node_id))
    actor_states = Counter(
        state_of_record(raw) for raw in ray_internals.actor_records()
    ) if with_actors else Counter()
    return ClusterFacts(
        ray_version=ray.__version__,
        gcs_address=ray.get_runtime_context().gcs_address,
        dashboard_url=ray_internals.dashboard_address(),  # the cluster's, also from a task
        nodes=nodes,
        actor_states=actor_states,
    )


def hex_id(raw: bytes) -> str:
    text = raw.hex()
    return "" if not text or set(text) <= set(NIL_ID) else text


def handle_spec(record) -> bytes:
    """The serialized handle of the Python actor of a GCS `ActorTableData` record (b"" for others).

    It is the handle the actor would receive if one were passed to it; `classes.count_reader`
    turns it back into a weak handle.
    """
    if record.function_descriptor.WhichOneof("function_descriptor") != PYTHON_CLASS:
        return b""
    protos = ray_internals.gcs_protos()
    return protos.ActorHandle(
        actor_id=record.actor_id,
        owner_id=record.owner_address.worker_id,
        owner_address=record.owner_address,
        creation_job_id=record.job_id,
        actor_language=protos.PYTHON,
        actor_creation_task_function_descriptor=record.function_descriptor,
        name=record.name,
        ray_namespace=record.ray_namespace,
        is_detached=record.is_detached,
        max_pending_calls=-1,
    ).SerializeToString()


def read_actors() -> list[ActorFacts]:
    """Every actor of every job the GCS knows, dead ones included (no dashboard needed)."""
    return on_cluster(actor_facts)


def actor_facts() -> list[ActorFacts]:
    """`read_actors` where Ray's core worker is."""
    return [facts_of_record(raw) for raw in ray_internals.actor_records()]  # every job, every state


def read_actor(actor_id: str) -> ActorFacts | None:
    """What the GCS knows of one actor (by hex id), None if it knows nothing of it."""
    return on_cluster(one_actor_facts, actor_id)


def one_actor_facts(actor_id: str) -> ActorFacts | None:
    """`read_actor` where Ray's core worker is."""
    return next((facts_of_record(raw) for raw in ray_internals.actor_records(actor_id)), None)


def state_of_record(raw: bytes) -> str:
    """The state (`ALIVE`, `DEAD`, ...) of a serialized GCS `ActorTableData` record."""
    table_data = ray_internals.gcs_protos().ActorTableData
    return table_data.ActorState.Name(table_data.FromString(raw).state)


def facts_of_record(raw: bytes) -> ActorFacts:
    """The facts of a serialized GCS `ActorTableData` record."""
    table_data = ray_internals.gcs_protos().ActorTableData
    record = table_data.FromString(raw)
    return ActorFacts(
        actor_id=record.actor_id.hex(),
        class_name=record.class_name,
        name=record.name,
        state=table_data.ActorState.Name(record.state),
        pid=record.pid,
        node_id=hex_id(record.address.node_id),
        restarts=record.num_restarts,
        start_ms=record.start_time,
        end_ms=record.end_time,
        death_cause=ray_internals.death_reason(record.death_cause) if record.HasField("death_cause") else "",
        handle_spec=handle_spec(record),
        detached=record.is_detached,
        holds=held_resources(record),
    )


def held_resources(record) -> dict[str, float]:
    """What the actor of a GCS `ActorTableData` record holds while it lives (its required resources)."""
    return {name: amount for name, amount in record.required_resources.items() if amount > EPSILON}
