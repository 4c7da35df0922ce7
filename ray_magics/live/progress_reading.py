"""What a progress method may return, read into one `Reading` (or a one-line `ValueError`).

A fraction in [0, 1]; a `(done, total)` pair; or a mapping with `done`, `total` and
optional `parts` (name → fraction or `(done, total)`).
"""

import math
import numbers
import reprlib
from collections.abc import Mapping
from dataclasses import dataclass, field

EXPECTED = "a fraction in [0, 1], a (done, total) pair or a mapping with done and total"


@dataclass(frozen=True)
class Reading:
    """One progress reading: the fraction done, its counts when known, and its parts."""

    fraction: float
    done: float | None = None
    total: float | None = None
    parts: dict = field(default_factory=dict)  # name -> Reading

    @property
    def complete(self) -> bool:
        return self.fraction >= 1


def read_progress(value) -> Reading:
    """The `Reading` a progress method's return value stands for."""
    if isinstance(value, Mapping):
        return read_mapping(value)
    return read_simple(value)


def read_simple(value) -> Reading:
    """A fraction or a `(done, total)` pair."""
    if is_number(value):
        fraction = finite(value, "the fraction")
        if not 0 <= fraction <= 1:
            raise ValueError(f"the fraction must be in [0, 1], got {fraction:g}")
        return Reading(fraction)
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return read_done_total(*value)
    raise ValueError(f"expected {EXPECTED}, got {describe_value(value)}")


def read_done_total(done, total) -> Reading:
    done, total = finite(done, "done"), finite(total, "total")
    if total <= 0:
        raise ValueError(f"total must be > 0, got {total:g}")
    if not 0 <= done <= total:
        raise ValueError(f"done must be in [0, total], got {done:g} of {total:g}")
    return Reading(done / total, done, total)


def read_mapping(value: Mapping) -> Reading:
    missing = [key for key in ("done", "total") if key not in value]
    if missing:
        raise ValueError(f"the mapping lacks {' and '.join(missing)}")
    main = read_done_total(value["done"], value["total"])
    parts = value.get("parts") or {}
    if not isinstance(parts, Mapping):
        raise ValueError(f"parts must be a mapping of name to progress, got {describe_value(parts)}")
    named_parts = {str(name): read_part(name, part) for name, part in parts.items()}
    return Reading(main.fraction, main.done, main.total, named_parts)


def read_part(name, value) -> Reading:
    try:
        return read_simple(value)
    except ValueError as error:
        raise ValueError(f"part {str(name)!r}: {error}") from None


def is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def finite(value, what: str) -> float:
    if not is_number(value):
        raise ValueError(f"{what} must be a number, got {describe_value(value)}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{what} must be finite, got {number}")
    return number


def describe_value(value) -> str:
    return f"{type(value).__name__} {reprlib.repr(value)}"
