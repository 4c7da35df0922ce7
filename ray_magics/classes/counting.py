"""Exact per-method call counts kept inside tracked Ray actors (imports the standard library alone).

`tracked_class(cls)` returns a subclass of `cls` whose public methods count each call
made to the actor (and each that fails) under a lock, so counts stay exact in threaded and
async actors. Calls a method makes to its own actor's methods are not counted: only the
calls the actor serves are. Sync, async, generator and async-generator methods keep their
kind, signature and `@ray.method` options; each also announces the calls made to it
(`submissions`), which is how the kernel knows the calls a cell made.
"""

import contextvars
import functools
import inspect
import linecache
import os
import threading
import types

from ..ray_internals import INVOCATION_DECORATOR, in_concurrency_group
from . import tagged_output
from .submissions import announcing

COUNTS_METHOD = "_ray_magics_calls"
POLL_PREFIX = "_ray_magics_poll_"  # + a public method's name: a widget's poll of it, in the control group
COUNTER_ATTRIBUTE = "_ray_magics_counter"
SOURCES_ATTRIBUTE = "_ray_magics_sources"  # {filename: lines} of the class's notebook cells
# A tracked actor's own concurrency group (one thread): its counts are read there, never
# behind queued calls, and with it Ray's scheduling queue cancels a sync actor's queued calls.
CONTROL_GROUP = "ray_magics"
CONTROL_GROUP_THREADS = 1

# Referenced only through module-level functions and classes, which cloudpickle sends
# by reference: a ContextVar itself cannot be pickled.
_serving = contextvars.ContextVar("ray_magics_serving", default=False)


class CallCounter:
    """Calls and failures per method name, safe to update from many threads."""

    def __init__(self, names):
        self._lock = threading.Lock()
        self._calls = dict.fromkeys(names, 0)
        self._failures = dict.fromkeys(names, 0)
        self._polls = {}

    def called(self, name):
        with self._lock:
            self._calls[name] += 1

    def failed(self, name):
        with self._lock:
            self._failures[name] += 1

    def polled(self, name):
        with self._lock:
            self._polls[name] = self._polls.get(name, 0) + 1

    def snapshot(self):
        with self._lock:
            return dict(self._calls), dict(self._failures), dict(self._polls)


class CallCounts(dict):
    """Calls per method name, with `.failures`: the failed calls per method name, and `.polls`:
    the widgets' polls per method name, which are not calls."""

    def __init__(self, calls, failures, polls=None):
        super().__init__(calls)
        self.failures = failures
        self.polls = polls or {}


def public_methods(cls):
    """Names and functions of the public instance methods of `cls` and its bases."""
    return {
        name: member
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_")
        and not isinstance(inspect.getattr_static(cls, name), (staticmethod, classmethod))
    }


def tracked_class(cls, tags_output=False):
    """A subclass of `cls` that counts the calls its actor serves, per public method; with
    `tags_output` its actor tags what it writes with the call that wrote it (`tagged_output`)."""
    methods = public_methods(cls)
    names = tuple(methods)
    asynchronous = is_async(cls)
    namespace = {name: _counting(name, method, asynchronous) for name, method in methods.items()}
    namespace["__init__"] = _init_with_counter(cls.__init__, names)
    namespace[COUNTS_METHOD] = _report_counts
    namespace.update({poll_method(name): _poller(name, asynchronous) for name in names})
    namespace[tagged_output.LINES_WRITTEN_METHOD] = _report_lines_written
    namespace[tagged_output.TAGGING_ATTRIBUTE] = tags_output
    namespace[SOURCES_ATTRIBUTE] = cell_sources(cls)
    for attribute in ("__module__", "__qualname__", "__doc__"):
        namespace[attribute] = getattr(cls, attribute)
    return type(cls.__name__, (cls,), namespace)


def cell_sources(cls) -> dict:
    """The lines of each file that defines a function of `cls` and exists only in this process's
    line cache: a notebook cell's (IPython caches each cell it runs). A worker, on any node, can
    then show those lines in the tracebacks of the actor's methods."""
    sources = {}
    for klass in cls.__mro__:
        for member in vars(klass).values():
            function = inspect.unwrap(getattr(member, "__func__", member))
            code = getattr(function, "__code__", None)
            if code is None or code.co_filename in sources or os.path.exists(code.co_filename):
                continue
            lines = linecache.getlines(code.co_filename)
            if lines:
                sources[code.co_filename] = lines
    return sources


def _learn_sources(cls) -> None:
    """Put the cells' lines that came with `cls` in this process's line cache, where tracebacks read."""
    for filename, lines in getattr(cls, SOURCES_ATTRIBUTE, {}).items():
        linecache.cache.setdefault(filename, (sum(map(len, lines)), None, lines, filename))


def is_async(cls) -> bool:
    """Whether Ray makes `cls` an async actor: any of its methods is `async def`."""
    return any(
        inspect.iscoroutinefunction(member) or inspect.isasyncgenfunction(member)
        for _, member in inspect.getmembers(cls, inspect.isfunction)
    )


def _in_control_group(function):
    """Run `function` in the actor's own concurrency group."""
    return in_concurrency_group(function, CONTROL_GROUP)


@_in_control_group
def _report_counts(self):
    """Return `(calls, failures, polls)`, each a dict by method name."""
    return getattr(self, COUNTER_ATTRIBUTE).snapshot()


@_in_control_group
def _report_lines_written(self):
    """This process's incarnation and the tagged lines it has written so far (`tagged_output.lines_written`)."""
    return tagged_output.lines_written()


def poll_method(name):
    """The name of the method that polls the public method `name` for a widget."""
    return POLL_PREFIX + name


def _poller(name, asynchronous):
    """A widget's poll of the method `name`, run in the actor's own concurrency group and counted
    as a poll, not a call; `async` in an async actor, whose method may be `async def`. It takes
    no argument: passing the name to one shared poll method cost each poll about 30 µs."""
    if asynchronous:
        async def poll(self):
            getattr(self, COUNTER_ATTRIBUTE).polled(name)
            with _ServedCall(self, None):
                value = getattr(self, name)()
                return await value if inspect.isawaitable(value) else value
    else:
        def poll(self):
            getattr(self, COUNTER_ATTRIBUTE).polled(name)
            with _ServedCall(self, None):
                return getattr(self, name)()
    poll.__name__ = poll.__qualname__ = poll_method(name)
    return _in_control_group(poll)


def _takes_no_arguments(self):
    """The `__init__` of a class that defines none (`object.__init__`)."""


def _init_with_counter(init, names):
    if not inspect.isfunction(init):
        init = _takes_no_arguments

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        setattr(self, COUNTER_ATTRIBUTE, CallCounter(names))
        _learn_sources(type(self))
        if getattr(type(self), tagged_output.TAGGING_ATTRIBUTE, False):
            import ray

            tagged_output.start_tagging(ray.get_runtime_context().get_actor_id(), already_serving)
        with _ServedCall(self, None):
            init(self, *args, **kwargs)

    return __init__


def already_serving() -> bool:
    """Whether the running code is already inside a call the actor serves."""
    return _serving.get()


class _ServedCall:
    """Marks a call the actor serves (or one step of a generator it serves) until the
    block ends, counting the call on its first step and a failure on any step.
    `name` None marks without counting (`__init__`)."""

    __slots__ = ("counter", "name", "token")

    def __init__(self, instance, name, first_step=True):
        self.counter = getattr(instance, COUNTER_ATTRIBUTE)
        self.name = name
        if name and first_step:
            self.counter.called(name)

    def __enter__(self):
        self.token = _serving.set(True)

    def __exit__(self, kind, error, traceback):
        tagged_output.call_ends()
        _serving.reset(self.token)
        if self.name and kind is not None and not issubclass(kind, (StopIteration, StopAsyncIteration)):
            self.counter.failed(self.name)


class _EndedBetweenSteps:
    """Counts a failure if a served generator is closed or cancelled while it waits between two
    steps (Ray cancelling it while it reports a step), not only while it runs one."""

    __slots__ = ("counter", "name")

    def __init__(self, instance, name):
        self.counter = getattr(instance, COUNTER_ATTRIBUTE)
        self.name = name

    def __enter__(self):
        pass

    def __exit__(self, kind, error, traceback):
        if kind is not None:
            self.counter.failed(self.name)


def _counting(name, method, asynchronous):
    """Wrap `method` so that each call served by the actor is counted, and each call made to it
    is announced where it is made (`submissions`)."""
    if inspect.isasyncgenfunction(method):
        wrapper = _count_async_generator(name, method)
    elif inspect.isgeneratorfunction(method):
        wrapper = _count_generator(name, method)
    elif inspect.iscoroutinefunction(method):
        wrapper = _count_coroutine(name, method)
    else:
        wrapper = _count_function(name, method)
    wrapper = functools.wraps(method)(wrapper)
    wrapper.__wrapped__ = _announcing_copy(inspect.unwrap(method), asynchronous)
    return wrapper


def _announcing_copy(function, asynchronous):
    """A copy of `function` (same code, defaults and attributes) that also carries the invocation
    decorator that announces each call. Ray reads a method's options from the function at the
    end of its `__wrapped__` chain, and the user's own function is left unchanged."""
    copy = types.FunctionType(
        function.__code__, function.__globals__, function.__name__, function.__defaults__, function.__closure__
    )
    copy.__kwdefaults__ = function.__kwdefaults__
    for attribute in ("__module__", "__qualname__", "__doc__", "__annotations__"):
        setattr(copy, attribute, getattr(function, attribute))
    copy.__dict__.update(function.__dict__)
    setattr(copy, INVOCATION_DECORATOR, announcing(asynchronous, getattr(function, INVOCATION_DECORATOR, None)))
    return copy


def _count_function(name, method):
    def counted(self, *args, **kwargs):
        if already_serving():
            return method(self, *args, **kwargs)
        with _ServedCall(self, name):
            return method(self, *args, **kwargs)

    return counted


def _count_coroutine(name, method):
    async def counted(self, *args, **kwargs):
        if already_serving():
            return await method(self, *args, **kwargs)
        with _ServedCall(self, name):
            return await method(self, *args, **kwargs)

    return counted


def _count_generator(name, method):
    def counted(self, *args, **kwargs):
        if already_serving():
            return (yield from method(self, *args, **kwargs))
        items = method(self, *args, **kwargs)
        first = True
        while True:
            try:
                with _ServedCall(self, name, first_step=first):
                    first = False
                    item = next(items)
            except StopIteration as end:
                return end.value
            with _EndedBetweenSteps(self, name):
                yield item

    return counted


def _count_async_generator(name, method):
    async def counted(self, *args, **kwargs):
        if already_serving():
            async for item in method(self, *args, **kwargs):
                yield item
            return
        items = method(self, *args, **kwargs)
        first = True
        while True:
            try:
                with _ServedCall(self, name, first_step=first):
                    first = False
                    item = await items.__anext__()
            except StopAsyncIteration:
                return
            with _EndedBetweenSteps(self, name):
                yield item

    return counted
