"""Whether a poll that failed, or hangs, means its actor is gone for good.

An actor made with `max_restarts` comes back after its process dies: the polls in flight
then fail with `RayActorError` (or its `ActorUnavailableError`), and the polls sent while
it restarts wait until it is back. The GCS's record of the actor tells which it is:
RESTARTING (with its restart count), back, or DEAD for good.
"""

from dataclasses import dataclass

from .cluster_state import ActorFacts, read_actor
from .ray_session import import_ray, one_line

RESTARTING, DEAD = "RESTARTING", "DEAD"
DEATH_CAUSE = "The actor is dead because"


@dataclass(frozen=True)
class Outage:
    """Why a poll brought no value: `final` ends the view; otherwise it shows and polling goes on."""

    reason: str
    final: bool


def ray_error_reason(error: BaseException) -> str:
    """One line for a failed poll: the actor's death cause, or the method's exception."""
    ray = import_ray()
    if isinstance(error, ray.exceptions.RayTaskError) and error.cause is not None:
        return f"{type(error.cause).__name__}: {one_line(error.cause)}"
    if isinstance(error, ray.exceptions.RayActorError):
        lines = str(error).strip().splitlines()
        return next((line for line in lines if line.startswith(DEATH_CAUSE)), one_line(error))
    return one_line(error)


def restart_notice(facts: ActorFacts) -> str:
    restarts = facts.restarts
    return f"actor restarting (restart {restarts})" if restarts else "actor unavailable, retrying"


def failed_poll(error: BaseException, actor_id: str | None) -> Outage:
    """What a poll's error means: final unless the actor lives on (restarting, or back already)."""
    reason = ray_error_reason(error)
    if actor_id is None or not isinstance(error, import_ray().exceptions.RayActorError):
        return Outage(reason, final=True)
    try:
        facts = read_actor(actor_id)
    except Exception:  # noqa: BLE001 - without the record the actor counts as gone
        return Outage(reason, final=True)
    if facts is None or facts.state == DEAD:
        return Outage(reason, final=True)
    return Outage(restart_notice(facts), final=False)


def stalled_poll(actor_id: str | None) -> Outage | None:
    """Why a poll is still unanswered when the next is due: the actor restarting, or None."""
    if actor_id is None:
        return None
    facts = read_actor(actor_id)
    return Outage(restart_notice(facts), final=False) if facts is not None and facts.state == RESTARTING else None
