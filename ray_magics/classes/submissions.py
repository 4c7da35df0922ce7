"""Word of each call made to a tracked actor, and of each tracked actor created, where it is
made (imports the standard library alone).

Ray wraps every call of an actor method whose function carries `__ray_invocation_decorator__`
with that decorator, in the process that makes the call. A tracked class's methods carry
`announcing(...)`: it hands the call's object refs to the listeners registered in that
process, the kernel's (`listen`); Ray's workers register none, and there it does nothing.
A tracked actor class creates its actors through `creating` (`ray_internals.announce_creations`),
which hands each new handle to the creation listeners. Ray Client applies no invocation
decorator and creates on Ray's server: `ray_internals.announce_through_client` makes its stubs
announce calls and creations too.
"""

import functools
from dataclasses import dataclass


class _Listeners(list):
    """The functions told of one kind of event, each once."""

    def add(self, listener) -> None:
        if listener not in self:
            self.append(listener)

    def discard(self, listener) -> None:
        if listener in self:
            self.remove(listener)


_listeners = _Listeners()  # called as listener(call: SubmittedCall) after each call is submitted
_creation_listeners = _Listeners()  # called as listener(handle) after each tracked actor is created here
listen, stop_listening = _listeners.add, _listeners.discard
listen_to_creations, stop_listening_to_creations = _creation_listeners.add, _creation_listeners.discard


def creating(actor_class, *args, **kwargs):
    """`_remote` of a tracked actor class: Ray's own creates the actor; the listeners get its handle."""
    from ..ray_internals import create_actor

    handle = create_actor(actor_class, args, kwargs)
    announce_creation(handle)
    return handle


def announce_creation(handle) -> None:
    """Tell the creation listeners of a tracked actor created in this process."""
    for listener in tuple(_creation_listeners):
        listener(handle)


@dataclass(frozen=True)
class SubmittedCall:
    """One call submitted to a tracked actor, as its listeners are told of it."""

    target: object  # what `ray.cancel` takes: the call's object ref, or its generator
    done: object  # an object ref that is ready once the call has finished
    asynchronous: bool | None  # whether the actor is async (a running call is cancelled too); None: unknown


def submitted_call(refs, asynchronous: bool | None) -> SubmittedCall | None:
    """The call that returned `refs` (an object ref, a list of them, a generator, or None)."""
    if isinstance(refs, (list, tuple)):
        refs = refs[0] if refs else None
    if refs is None:  # `num_returns=0`: nothing to wait for or cancel
        return None
    completed = getattr(refs, "completed", None)  # a streaming generator's end
    return SubmittedCall(refs, completed() if completed else refs, asynchronous)


def announce(refs, asynchronous: bool | None) -> None:
    """Tell the listeners of a call submitted to a tracked actor (None: whether it is async is unknown)."""
    if not _listeners:
        return
    call = submitted_call(refs, asynchronous)
    if call is not None:
        for listener in tuple(_listeners):
            listener(call)


def announcing(asynchronous: bool, inner=None):
    """The invocation decorator of a tracked class's methods; `asynchronous` says whether the
    actor is async, `inner` is the method's own decorator, which runs closer to the call."""
    return functools.partial(_announce, asynchronous=asynchronous, inner=inner)


def _announce(invocation, asynchronous, inner):
    if inner is not None:
        invocation = inner(invocation)
    if not _listeners:
        return invocation

    def submit(args, kwargs):
        refs = invocation(args, kwargs)
        announce(refs, asynchronous)
        return refs

    return submit
