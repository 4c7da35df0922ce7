"""Word of each call made to a tracked actor, and of each tracked actor created, where it is
made (imports the standard library alone).

Ray wraps every call of an actor method whose function carries an invocation decorator
(`ray_internals.INVOCATION_DECORATOR`) with that decorator, in the process that makes the
call. A tracked class's methods carry `announcing(...)`: it hands the call's object refs to
the listeners registered in that process, the kernel's (`listen`); Ray's workers register
none, and there it does nothing.
A tracked actor class creates its actors through `creating` (`ray_internals.announce_creations`),
which hands each new handle to the creation listeners. Ray Client applies no invocation
decorator and creates on Ray's server: `ray_internals.announce_through_client` makes its stubs
announce calls and creations too.
"""

import functools
from typing import NamedTuple


class _Listeners:
    """The functions told of one kind of event, each once. The tuple of them is replaced, never
    changed, so the calls of a submission read it without a copy or a lock."""

    def __init__(self):
        self.all = ()

    def add(self, listener) -> None:
        if listener not in self.all:
            self.all = (*self.all, listener)

    def discard(self, listener) -> None:
        self.all = tuple(each for each in self.all if each != listener)

    def __len__(self) -> int:
        return len(self.all)


# called as listener(refs, asynchronous) after each call is submitted: what the call returned
# (`submitted_call` makes it a `SubmittedCall`, when the listener needs one), and whether
# the actor is async (None: unknown). Called on every call: a listener keeps what it is given
# and looks at it later, in batches.
_listeners = _Listeners()
# called as listener(handle, actor_class) after each tracked actor is created here, with the class it came from
_creation_listeners = _Listeners()
listen, stop_listening = _listeners.add, _listeners.discard
listen_to_creations, stop_listening_to_creations = _creation_listeners.add, _creation_listeners.discard


def creating(actor_class, *args, **kwargs):
    """`_remote` of a tracked actor class: Ray's own creates the actor; the listeners get its handle."""
    from ..ray_internals import create_actor

    handle = create_actor(actor_class, args, kwargs)
    announce_creation(handle, actor_class)
    return handle


def announce_creation(handle, actor_class) -> None:
    """Tell the creation listeners of a tracked actor created in this process from `actor_class`."""
    for listener in _creation_listeners.all:
        listener(handle, actor_class)


class SubmittedCall(NamedTuple):
    """One call submitted to a tracked actor."""

    target: object  # what `ray.cancel` takes: the call's object ref, or its generator
    done: object  # an object ref that is ready once the call has finished
    asynchronous: bool | None  # whether the actor is async (a running call is cancelled too); None: unknown


def submitted_call(refs, asynchronous: bool | None) -> SubmittedCall | None:
    """The call that returned `refs` (an object ref, a list of them, a generator, or None)."""
    target = _target(refs)
    return None if target is None else SubmittedCall(target, _end(target), asynchronous)


def call_end(refs):
    """What is ready once the call that returned `refs` has finished (`SubmittedCall.done`),
    without making a `SubmittedCall`; None for a call that returned nothing."""
    target = _target(refs)
    return None if target is None else _end(target)


def called_actor(refs) -> str | None:
    """The hex id of the actor whose call returned `refs`; None for a call that returned nothing."""
    end = call_end(refs)
    return None if end is None else end.task_id().binary()[8:].hex()  # a call's task id ends with its actor's id


def _target(refs):
    if isinstance(refs, (list, tuple)):
        return refs[0] if refs else None
    return refs  # None for `num_returns=0`: nothing to wait for or cancel


def _end(target):
    streams = _streams.get(type(target))
    if streams is None:
        streams = _streams[type(target)] = hasattr(type(target), "completed")
    return target.completed() if streams else target


_streams = {}  # type of what a call returned -> whether it is a streaming generator, whose end is `completed()`


def announce(refs, asynchronous: bool | None) -> None:
    """Tell the listeners of a call submitted to a tracked actor (None: whether it is async is unknown)."""
    for listener in _listeners.all:
        listener(refs, asynchronous)


def announcing(asynchronous: bool, inner=None):
    """The invocation decorator of a tracked class's methods; `asynchronous` says whether the
    actor is async, `inner` is the method's own decorator, which runs closer to the call."""
    return functools.partial(_announce, asynchronous=asynchronous, inner=inner)


def _announce(invocation, asynchronous, inner):
    if inner is not None:
        invocation = inner(invocation)
    if not _listeners.all:
        return invocation
    return functools.partial(_submit, invocation, asynchronous)


def _submit(invocation, asynchronous, args, kwargs):
    """Submit one call, then tell the listeners."""
    refs = invocation(args, kwargs)
    announce(refs, asynchronous)
    return refs
