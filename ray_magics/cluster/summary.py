"""The cluster summary shown by `%ray_init` and `%ray_status`, as text and as HTML."""

from html import escape

from .dashboard_link import DashboardLink, direct
from .facts import ACTOR_STATES, ALIVE, ClusterFacts

DASHBOARD_OFF = "off"
DASHBOARD_HINT = " (%ray_init --dashboard to turn it on)"  # for the embedded Ray only: a cluster's is set at its start
LINKABLE = ("http://", "https://", "/")  # what the HTML makes an <a> of: web addresses and paths on the server


def human_bytes(count: float) -> str:
    """`1536` → `1.5 KiB`."""
    if abs(count) < 1024:
        return f"{count:.0f} B"
    for unit in ("KiB", "MiB", "GiB"):
        count /= 1024
        if abs(count) < 1024:
            return f"{count:.1f} {unit}"
    return f"{count / 1024:.1f} TiB"


def _amount(value: float) -> str:
    return f"{value:g}"


def _node_usage(node, resource: str) -> str:
    total = node.total.get(resource, 0)
    return f"{_amount(total - node.available.get(resource, 0))}/{_amount(total)}"


class ClusterSummary:
    """A cluster at a glance; `detailed` adds per-node rows and actors by state.

    `embedded`: the Ray is the one the magics started here (not a cluster connected to).
    `dashboard`: the dashboard's link (`dashboard_link`), by default its direct address.
    """

    def __init__(self, facts: ClusterFacts, detailed: bool, embedded: bool = True,
                 dashboard: DashboardLink | None = None):
        self.facts = facts
        self.detailed = detailed
        self.embedded = embedded
        self.dashboard = dashboard or (direct(facts.dashboard_url) if facts.dashboard_url else None)

    def rows(self) -> list[tuple[str, str]]:
        facts = self.facts
        dead = len(facts.nodes) - len(facts.alive_nodes)
        rows = [
            ("Ray", facts.ray_version),
            ("nodes", f"{len(facts.alive_nodes)} alive" + (f", {dead} dead" if dead else "")),
            ("CPUs", self._usage("CPU")),
            ("GPUs", self._usage("GPU")),
            ("object store", self._usage("object_store_memory", human_bytes)),
            ("dashboard", self.dashboard.text if self.dashboard else self._dashboard_off()),
        ]
        if self.detailed:
            rows.append(("actors", self._actor_states()))
            rows.extend(
                (f"node {node.short_id}", self._node_line(node)) for node in self.facts.nodes
            )
        return rows

    def _dashboard_off(self) -> str:
        return DASHBOARD_OFF + (DASHBOARD_HINT if self.embedded else "")

    def _usage(self, resource: str, show=_amount) -> str:
        total = self.facts.total(resource)
        if not self.detailed:
            return show(total)
        return f"{show(self.facts.used(resource))} used of {show(total)}"

    def _actor_states(self) -> str:
        states = self.facts.actor_states
        known = [s for s in ACTOR_STATES if s in states] + sorted(set(states) - set(ACTOR_STATES))
        return ", ".join(f"{states[s]} {s}" for s in known) or "none"

    def _node_line(self, node) -> str:
        """`ADDRESS ALIVE, CPU used/total`, then GPUs and custom resources (such as `accel 1/1`) if any."""
        if not node.alive:
            return f"{node.address} DEAD"
        custom = sorted(
            name for name in node.total
            if name not in ("CPU", "GPU", "memory", "object_store_memory") and not name.startswith("node:")
        )
        shown = ["CPU"] + (["GPU"] if node.total.get("GPU") else []) + custom
        usage = ", ".join(f"{name} {_node_usage(node, name)}" for name in shown)
        return f"{node.address} {ALIVE}, {usage}"

    def __repr__(self) -> str:
        width = max(len(label) for label, _ in self.rows())
        return "\n".join(f"{label:<{width}}  {value}" for label, value in self.rows())

    def _repr_html_(self) -> str:
        body = "".join(
            f"<tr><th style='text-align:left'>{escape(label)}</th>"
            f"<td style='text-align:left'>{self._html_value(label, value)}</td></tr>"
            for label, value in self.rows()
        )
        return f"<table class='ray-magics-summary'>{body}</table>"

    def _html_value(self, label: str, value: str) -> str:
        link = self.dashboard
        if label == "dashboard" and link and link.url.startswith(LINKABLE):
            anchor = f"<a href='{escape(link.url, quote=True)}' target='_blank' rel='noopener'>{escape(link.url)}</a>"
            return anchor + (escape(f" ({link.note})") if link.note else "")
        return escape(value)
