"""Option parsing shared by the magics: value types, option groups, names in the namespace.

Every option value is parsed as data (numbers, byte sizes, JSON), never evaluated as code.
Problems raise `InputError`; the magics show them as one line.
"""

import argparse
import json
import math
import re
import shlex

from IPython.core.magic_arguments import argument, magic_arguments
from traitlets import Bool, Float, Int

from .errors import InputError, single_line
from .settings import LEAST, positive_seconds, start_flag, start_settings

_BYTE_UNITS = {
    "": 1, "b": 1,
    "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
    "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
}
_BYTE_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?(?:e[0-9]+)?)\s*([a-z]*)\s*$", re.IGNORECASE)


def class_name(text: str) -> str:
    """A Python class name."""
    if not text.isidentifier():
        raise argparse.ArgumentTypeError(f"expected a class name, got {text!r}")
    return text


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def non_negative_number(text: str) -> int | float:
    """A finite number ≥ 0 (such as a resource amount); integral values come back as `int`."""
    value = _number(text)
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"expected a number ≥ 0, got {text!r}")
    return int(value) if value.is_integer() else value


def seconds(text: str) -> float:
    """Seconds, by the one rule for them (`settings.positive_seconds`)."""
    try:
        return positive_seconds(_number(text), "seconds")
    except InputError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds > 0, got {text!r}") from None


def count(minimum: int):
    """An integer type that accepts values ≥ `minimum`."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected a whole number ≥ {minimum}, got {text!r}")
        return value

    parse.__name__ = f"count_from_{minimum}"
    return parse


def byte_size(text: str) -> int:
    """A positive number of bytes, optionally with a unit: `2000000`, `512MiB`, `2GB`."""
    match = _BYTE_SIZE.match(text)
    unit = match and _BYTE_UNITS.get(match.group(2).lower())
    if not unit or not math.isfinite(float(match.group(1)) * unit):
        raise argparse.ArgumentTypeError(
            f"expected a size in bytes such as 500000000, 512MiB or 2GB, got {text!r}"
        )
    value = int(float(match.group(1)) * unit)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a size > 0, got {text!r}")
    return value


def json_object(text: str) -> dict:
    """A JSON object, such as `{"pip": ["requests"]}`."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"invalid JSON ({error.msg}): {text!r}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object {{...}}, got {text!r}")
    return value


def resources(text: str) -> dict:
    """A JSON object of custom resource names to amounts ≥ 0."""
    value = json_object(text)
    for name, amount in value.items():
        if isinstance(amount, bool) or not isinstance(amount, (int, float)):
            raise argparse.ArgumentTypeError(f"resource {name!r} needs a number, got {amount!r}")
        if not math.isfinite(amount) or amount < 0:
            raise argparse.ArgumentTypeError(f"resource {name!r} needs an amount ≥ 0")
    return value


def magic_options():
    """IPython's `@magic_arguments()`, with a parser that reports a bad line as an `InputError`
    (IPython's reports it as a `UsageError`, which the magics would only make again)."""

    def make(func):
        func = magic_arguments()(func)
        func.parser.error = _refuse
        return func

    return make


def _refuse(message: str):
    raise InputError(single_line(message))


def parse_line(magic, line: str):
    """Parse a magic's line with its `@magic_options`; every problem is an `InputError`."""
    try:
        argv = shlex.split(line)
    except ValueError as error:
        raise InputError(f"cannot split the options: {error}") from None
    return magic.parser.parse_args(argv)


def switch(name: str, on_help: str, off_help: str):
    """A `--NAME` / `--no-NAME` pair: True, False, or None when neither is given."""
    flag = name.replace("_", "-")

    def add(func):
        func = argument(f"--no-{flag}", dest=name, action="store_const", const=False, help=off_help)(func)
        return argument(f"--{flag}", dest=name, action="store_const", const=True, help=on_help)(func)

    return add


ACTOR_OPTIONS = {  # `ray.remote`'s actor options, each a `%%actor` flag (`--num-cpus` for `num_cpus`)
    "num_cpus": {"type": non_negative_number, "help": "CPUs each actor reserves."},
    "num_gpus": {"type": non_negative_number, "help": "GPUs each actor reserves."},
    "memory": {"type": byte_size, "help": "Heap memory each actor reserves (bytes, or 2GB, 512MiB)."},
    "resources": {"type": resources, "help": 'Custom resources as JSON, e.g. \'{"accel": 1}\'.'},
    "max_restarts": {"type": count(-1), "help": "Restarts after the actor dies (-1: no limit)."},
    "max_task_retries": {"type": count(-1), "help": "Retries of a method whose actor died (-1: no limit)."},
    "max_concurrency": {"type": count(1), "help": "Calls served at once (a threaded or async actor)."},
    "runtime_env": {"type": json_object, "help": "Ray runtime environment as JSON."},
    "name": {"help": "Name of the actor, to find it with ray.get_actor(NAME)."},
    "namespace": {"help": "Namespace of the named actor."},
    "lifetime": {"choices": ("detached", "non_detached"), "help": "detached: the actor outlives this kernel."},
    "get_if_exists": {"action": "store_const", "const": True, "help": "Reuse the named actor if it already runs."},
}


def actor_option_arguments(func):
    """The `ray.remote` actor options, as `%%actor` flags (dest = Ray's keyword)."""
    for name, spec in reversed(ACTOR_OPTIONS.items()):
        func = argument("--" + name.replace("_", "-"), dest=name, **spec)(func)
    return func


def live_view_arguments(func):
    """`--interval`, `--wait` and `--timeout`: the options of every live-widget magic."""
    for decorator in reversed((
        argument("--interval", type=seconds, help="Seconds between polls (RayMagics.refresh_interval)."),
        argument("--wait", action="store_true", help="Block the cell until the view ends (Ctrl-C stops waiting)."),
        argument("--timeout", type=seconds, help="With --wait: wait at most this many seconds."),
    )):
        func = decorator(func)
    return func


def bar_arguments(func):
    """`--description` and `--unit`, then the live-view options: those of every progress-bar magic."""
    for decorator in reversed((
        argument("--description", help="Label shown before the bar."),
        argument("--unit", help="What the counts count, e.g. samples."),
        live_view_arguments,
    )):
        func = decorator(func)
    return func


def check_needs(args, option: str, needed: str) -> None:
    """`--OPTION` only means something with `--NEEDED` (such as `--timeout` with `--wait`)."""
    if getattr(args, option) is not None and not getattr(args, needed):
        raise InputError(f"--{option} needs --{needed}")


def actor_options(args) -> dict:
    """The `ray.remote` keyword arguments a parsed `%%actor` line asks for."""
    return {name: getattr(args, name) for name in ACTOR_OPTIONS if getattr(args, name) is not None}


def resolve_name(namespace: dict, path: str):
    """The object a plain name or dotted attribute path (`actors.one`) names; never evaluates code."""
    first, *attributes = path.split(".")
    if not all(part.isidentifier() for part in (first, *attributes)):
        raise InputError(f"expected a name or dotted attribute path, got {path!r}")
    if first not in namespace:
        raise InputError(f"name {first!r} is not defined")
    value = namespace[first]
    for depth, attribute in enumerate(attributes, start=1):
        try:
            value = getattr(value, attribute)
        except AttributeError:
            owner = ".".join([first, *attributes[: depth - 1]])
            raise InputError(f"{owner} has no attribute {attribute!r}") from None
    return value


def start_arguments(func):
    """`%ray_init`'s flags, one for each setting that says how Ray starts (`settings.start_settings`),
    parsed by the rule the setting follows; a flag left out keeps the setting."""
    for name, trait in reversed(start_settings().items()):
        help_text = f"{trait.help} (RayMagics.{name})".replace("%", "%%")  # (argparse formats help with %)
        if isinstance(trait, Bool):
            func = switch(name, help_text, trait.metadata["off_help"])(func)
            continue
        if isinstance(trait, Float):
            kind, metavar = seconds, "S"
        elif isinstance(trait, Int):
            kind, metavar = (byte_size, "BYTES") if trait.metadata.get("bytes") else (count(LEAST[name]), "N")
        else:
            kind, metavar = str, trait.metadata["metavar"]
        func = argument(start_flag(name), dest=name, type=kind, metavar=metavar, help=help_text)(func)
    return func
