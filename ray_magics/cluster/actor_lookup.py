"""One actor, as a user names it: by its handle, or by the first 8 or more hex digits of its id."""

import re

from ..errors import InputError, InputTypeError
from ..ray_internals import actor_id
from .facts import read_actors
from .handles import is_actor_handle

SHORTEST_PREFIX = 8
HEX = re.compile(r"[0-9a-f]+")


def find_actor(target, also_known=()) -> str:
    """The hex id of the actor `target` names: a handle, or the start of an id (of an actor the
    GCS knows, or one of `also_known`); `InputError` naming the bad part otherwise."""
    if is_actor_handle(target):
        return actor_id(target)
    if not isinstance(target, str):
        raise InputTypeError(f"expected an actor handle or id, got {type(target).__name__}")
    prefix = target.strip().lower()
    if len(prefix) < SHORTEST_PREFIX or not HEX.fullmatch(prefix):
        raise InputError(
            f"{target!r} is not an actor id: give its handle, or {SHORTEST_PREFIX} or more of its hex digits"
        )
    known = {facts.actor_id for facts in read_actors()} | set(also_known)
    matches = sorted(actor for actor in known if actor.startswith(prefix))
    if not matches:
        raise InputError(f"no actor has an id starting with {prefix}")
    if len(matches) > 1:
        raise InputError(f"{prefix} is ambiguous: {len(matches)} actors' ids start with it")
    return matches[0]
