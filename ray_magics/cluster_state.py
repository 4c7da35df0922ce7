"""Facts about the connected Ray cluster, read from Ray's GCS (no dashboard needed)."""

from collections import Counter
from dataclasses import dataclass, field

SHORT_ID = 8


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


def read_cluster(ray, with_actors: bool = True) -> ClusterFacts:
    """One consistent look at the cluster this process is connected to."""
    from ray._private import state, worker

    available = state.available_resources_per_node()
    nodes = [
        NodeFacts(
            node_id=node["NodeID"],
            address=node["NodeManagerAddress"],
            alive=node["Alive"],
            total=node["Resources"],
            available=available.get(node["NodeID"], {}),
        )
        for node in ray.nodes()
    ]
    actor_states = Counter(
        info["State"] for info in state.actors().values()
    ) if with_actors else Counter()
    return ClusterFacts(
        ray_version=ray.__version__,
        gcs_address=ray.get_runtime_context().gcs_address,
        dashboard_url=worker.get_dashboard_url() or "",
        nodes=nodes,
        actor_states=actor_states,
    )
