"""Whether a poll that failed, or hangs, means its actor is gone for good.

An actor made with `max_restarts` comes back after its process dies: the polls in flight
then fail with `RayActorError` (or its `ActorUnavailableError`), and the polls sent while
it restarts wait until it is back. The GCS's record of the actor tells which it is:
RESTARTING (with its restart count), back, or DEAD for good. A view that waits for its
actor *pauses* with a notice; a view whose actor is gone *ends* with a reason.
"""

from .. import ray_internals
from ..cluster.facts import DEAD, RESTARTING, ActorFacts, read_actor
from ..errors import one_line
from ..session.ray_import import import_ray


def error_reason(error: BaseException) -> str:
    """The reason a failure ends a view, in one line of plain text: the method's own exception, the
    actor's death cause (the user's exception first if its `__init__` raised), or the error's first line."""
    exceptions = import_ray().exceptions
    if isinstance(error, exceptions.RayTaskError) and error.cause is not None:
        reason = f"{type(error.cause).__name__}: {one_line(error.cause)}"
    elif isinstance(error, exceptions.RayActorError):
        reason = ray_internals.actor_error_line(str(error)) or one_line(error)
    else:
        reason = one_line(error)
    return ray_internals.plain_text(reason)


def restart_notice(facts: ActorFacts) -> str:
    restarts = facts.restarts
    return f"actor restarting (restart {restarts})" if restarts else "actor unavailable, retrying"


def notice_after_failure(error: BaseException, actor_id: str | None) -> str | None:
    """The notice to pause with if the failed poll's actor lives on (restarting, or back already); None if gone.

    A `RayTaskError` is the method's own failure, even one that is also a `RayActorError`: a
    method that called another actor which died (a supervisor's worker) fails that way.
    """
    exceptions = import_ray().exceptions
    own_death = isinstance(error, exceptions.RayActorError) and not isinstance(error, exceptions.RayTaskError)
    if actor_id is None or not own_death:
        return None
    try:
        facts = read_actor(actor_id)
    except Exception:  # noqa: BLE001 - without the record the actor counts as gone
        return None
    if facts is None or facts.state == DEAD:
        return None
    return restart_notice(facts)


def notice_while_stalled(actor_id: str | None) -> str | None:
    """The notice to pause with while a poll stays unanswered: the actor restarting, or None."""
    if actor_id is None:
        return None
    facts = read_actor(actor_id)
    return restart_notice(facts) if facts is not None and facts.state == RESTARTING else None
