"""The words of waiting explained: one line for a group of actors waiting for the same reason.

    W (7980c003) waits for resources: needs CPU 1; free CPU 0 of 2; held by 2 W actors (created in
    In [3]) — %actors lists them
    W (7980c003) waits for resources: needs CPU 1; free CPU 0 of 2; held by 2 W actors from an
    earlier run of In [3] — %actors --stale lists them, %actors --kill-stale ends them
    W (7980c003) and 1 more cannot start: no node has GPU 1
    W (7980c003) and 1 more placed after 4.2 s

Plain data in, text out.
"""

from collections.abc import Callable

from ..cluster.placement import MEMORY, Holder, Wait
from ..cluster.summary import human_bytes
from ..errors import plural
from .origins import CellRun

MOST_HOLDER_CLASSES = 3  # classes of holders named; the rest are counted
LIST_HINT = " — %actors lists them"
STALE_HINT = " — %actors --stale lists them, %actors --kill-stale ends them"
BY_OTHERS = "tasks or placement groups"


def who(class_name: str, actor_id: str, others: int) -> str:
    """`W (7980c003)`, `W (7980c003) and 2 more`."""
    return f"{class_name} ({actor_id[:8]})" + (f" and {others} more" if others else "")


def quantity(name: str, value: float) -> str:
    """`1`, `0.5`, `2.0 GiB` for memory."""
    return human_bytes(value) if name in MEMORY else f"{value:g}"


def amount(name: str, value: float) -> str:
    """`CPU 1`, `GPU 0.5`, `memory 2.0 GiB`."""
    return f"{name} {quantity(name, value)}"


def amounts(resources: dict[str, float]) -> str:
    return ", ".join(amount(name, value) for name, value in resources.items())


def waiting_line(
    named: str, count: int, wait: Wait, origin: Callable[[str], CellRun | None], stale: Callable[[Holder], bool]
) -> str:
    """The line of `count` actors (`named`: `who(...)`) that wait as `wait` says; `origin` gives the
    cell run that created an actor, None where no cell of this kernel did, and `stale` whether a
    holder is stale (`origins.CellOrigins`)."""
    if wait.impossible:
        return f"{named} cannot start: no node has {' and '.join(amount(*each) for each in wait.lacking.items())}"
    verb, each = ("waits", "") if count == 1 else ("wait", "each ")
    free = ", ".join(_free(name, wait) for name in wait.needs)
    line = f"{named} {verb} for resources: {each}needs {amounts(wait.needs)}; free {free}"
    held = _holders(wait.holders, origin, stale) + [f"{amount(*each)} by {BY_OTHERS}" for each in wait.others.items()]
    if held:
        line += f"; held by {', '.join(held)}"
    if any(stale(holder) for holder in wait.holders):
        return line + STALE_HINT
    return line + (LIST_HINT if wait.holders else "")


def placed_line(named: str, seconds: float) -> str:
    return f"{named} placed after {seconds:.1f} s"


def ended_line(named: str) -> str:
    return f"{named} ended before it was placed"


def _free(name: str, wait: Wait) -> str:
    text = f"{amount(name, wait.free[name])} of {quantity(name, wait.total[name])}"
    if wait.free[name] >= wait.needs[name] > wait.most_free[name]:
        text += f" (at most {quantity(name, wait.most_free[name])} on one node)"
    return text


def _holders(
    holders: list[Holder], origin: Callable[[str], CellRun | None], stale: Callable[[Holder], bool]
) -> list[str]:
    """`2 W actors (created in In [3])`, or `2 W actors from an earlier run of In [3]` for stale ones,
    for each class, the most numerous first."""
    by_kind: dict[tuple[str, bool], list[Holder]] = {}
    for holder in holders:
        by_kind.setdefault((holder.class_name, stale(holder)), []).append(holder)
    ranked = sorted(by_kind.items(), key=lambda item: -len(item[1]))
    texts = []
    for (class_name, earlier), members in ranked[:MOST_HOLDER_CLASSES]:
        runs = [origin(member.actor_id) for member in members]
        known = sorted({run for run in runs if run is not None}, key=lambda run: (run.count is None, run.count))
        labels = ", ".join(run.label() for run in known)
        actors = plural(len(members), f"{class_name} actor")
        if earlier:
            texts.append(f"{actors} from an earlier run of {labels}")
        elif known:
            texts.append(f"{actors} (created in {labels}{' and elsewhere' if None in runs else ''})")
        else:
            texts.append(actors)
    if len(ranked) > MOST_HOLDER_CLASSES:
        rest = sum(len(members) for _, members in ranked[MOST_HOLDER_CLASSES:])
        texts.append(plural(rest, "other actor"))
    return texts
