"""Word of each call made to a tracked actor, and of each tracked actor created, where it is
made (imports the standard library alone).

Ray wraps every call of an actor method whose function carries `__ray_invocation_decorator__`
with that decorator, in the process that makes the call. A tracked class's methods carry
`announcing(...)`: it hands the call's object refs to the listeners registered in that
process, the kernel's (`listen`); Ray's workers register none, and there it does nothing.
Ray Client applies no such decorator: `ray_internals.announce_client_calls` makes its calls
`announce` too. A tracked actor class creates its actors through `creating`
(`ray_internals.announce_creations`), which hands each new handle to the creation listeners;
through Ray Client, `ray_internals.announce_client_creations` does.
"""

import functools


class _Listeners(list):
    """The functions told of one kind of event, each once."""

    def add(self, listener) -> None:
        if listener not in self:
            self.append(listener)

    def discard(self, listener) -> None:
        if listener in self:
            self.remove(listener)


_listeners = _Listeners()  # called as listener(refs, asynchronous) after each call is submitted
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


def announce(refs, asynchronous: bool | None) -> None:
    """Tell the listeners of a call submitted to a tracked actor (None: whether it is async is unknown)."""
    for listener in tuple(_listeners):
        listener(refs, asynchronous)


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
