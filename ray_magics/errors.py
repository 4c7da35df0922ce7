"""The package's own error types, and how its messages are worded: one line, plurals.

Plain modules raise these (or Python's own exceptions); only the magics turn them into
IPython's one-line `UsageError`, in one place (`magics.one_line_errors`).
"""

import re

_LINE_BREAKS = re.compile("[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")


class InputError(ValueError):
    """A value the user gave that ray_magics refuses: an option, a name, a cell, a setting.

    A `ValueError`, so Python callers catch it as they would any bad argument; the magics
    show it as one line naming the magic.
    """


class InputTypeError(InputError, TypeError):
    """An argument of the wrong kind, such as a list where an actor handle is expected.

    Also a `TypeError`, as Python raises for an argument of the wrong type.
    """


class RayUnavailableError(RuntimeError):
    """Ray could not be started or reached (no answer in time, refused, failed to start).

    Not the user's input: a failure of Ray or the network, shown as one line all the same.
    """


ONE_LINE_ERRORS = (InputError, RayUnavailableError)


def single_line(text: str) -> str:
    """`text` with each line break written as its escape (`\\n`), so that a message stays one line."""
    return _LINE_BREAKS.sub(lambda match: repr(match.group())[1:-1], text)


def plural(count: int, word: str) -> str:
    """`1 poll`, `2 polls`."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def one_line(error: BaseException) -> str:
    """The first line of an exception's message, or its type name."""
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
