"""Fuzz of every magic's line: random option strings give a normal result or one plain
`UsageError` line that names the magic, and an error leaves the namespace as it was and
starts nothing. A known-good line of each magic, run the same way with the same fixture,
must run: a fixture that broke every line would fail these tests, not pass them."""

import json
import shlex
import threading
import time
import types
from collections import Counter

import pytest
import ray
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from ray_magics import magics
from ray_magics.live.refresher import REFRESHER

FUZZ = settings(
    max_examples=800, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
THREAD_GRACE_SECONDS = 1.0
TARGET = """
class Target:
    '''Whatever is polled finishes a view at its first poll, so `--wait` never blocks.'''
    def get_progress(self):
        return 1.0
    def broken(self):
        return 42
    def rows(self):
        return [{"state": "DONE"}]
"""
ACTOR_CELL = "class Fuzzed:\n    def go(self):\n        return 1\n"
NUMBERS = ["-1", "0", "-0", "1", "2.5", "1e400", "-1e400", "1e-300", "nan", "inf", "9" * 30, "512MiB", "2GB",
           "1.5e3kb", "0x10"]
JSON_PIECES = ['{', '}', '[', '{}', '{"accel": 1}', '{"accel": 1e400}', '{"a": -1}', '{"CPU": 1}', '[1, 2]', 'null',
               '{"env_vars": {"A": "1"}}', '{"pip": 5}', '{"working_dir": 7}', '{"nope": true}', '"text"']
WORDS = ["h", "box.h", "h.get_progress", "h.broken", "h.nope", "box.h.broken", "h.", ".h", "nothing.here",
         "detached", "non_detached", "Fuzzed", "Other", "DONE", "$n", "{n}", "{n", "__import__('os')"]
SANE_VALUES = ["1", "0.5", "2GB", '{"accel": 1}', '{"env_vars": {"A": "1"}}', "detached", "DONE", "broken", "unit"]
TARGETS = ["", "h", "box.h", "h.broken", "box.h.get_progress", "Fuzzed"]
# what the option's value is added to
WHOLE_LINE_TARGETS = {"actor_progress": "h", "actor_table": "h.broken", "actor_logs": "h"}
PUNCTUATION = ["-", "--", "---", "-x", "--no-", "'", '"', "\\", "=", "--=", "\n", "\u2028", "\x00", " "]
FUZZED_LINE_MAGICS = ["ray_init", "actor_progress", "actor_table", "actors", "ray_status", "actor_logs"]
FOLLOWS_UNTIL_STOPPED = {"--follow"}  # left out of the fuzzed options: a line with it only ends on Ctrl-C
KNOWN_GOOD = {  # a line of each fuzzed magic that runs with the fixture (the cell of %%actor is ACTOR_CELL)
    "actor": "--num-cpus 0.5 --max-restarts 1",
    "ray_init": "--num-cpus 2",  # Ray runs: it says so
    "actor_progress": "box.h --description fuzz --interval 0.05 --wait --timeout 30",
    "actor_table": "h.rows --until DONE --interval 0.05 --wait --timeout 30",
    "actors": "--all --class Target",
    "ray_status": "",
    "actor_logs": "box.h -n 5",
    "ray_shutdown": "",  # run with Ray's own shutdown replaced, so the session's Ray keeps running
}


def option_names(magic) -> list[str]:
    """The option strings a magic's parser knows (empty for the magics without a parser)."""
    parser = getattr(magic, "parser", None)
    return [name for action in (parser._actions if parser else ()) for name in action.option_strings]


def quoted(token):
    return st.sampled_from([token, shlex.quote(token), f'"{token}"', f"'{token}", f"{token}="])


def lines(names):
    """Random magic lines: the magic's real options among values, JSON, quotes and stray dashes;
    half of them plausible (a target, then a few options with quoted values), half noise."""
    option = st.sampled_from(names or ["--x"])
    plain_value = st.sampled_from(NUMBERS + JSON_PIECES + WORDS)
    value = st.one_of(plain_value, st.sampled_from(PUNCTUATION), st.text(max_size=10)).flatmap(quoted)
    noise = st.lists(st.one_of(st.tuples(option, value).map(" ".join), option, value), max_size=6)
    sane_value = st.one_of(plain_value, st.sampled_from(SANE_VALUES))
    pair = st.one_of(option, st.tuples(option, sane_value.map(shlex.quote)).map(" ".join))
    plausible = st.tuples(st.sampled_from(TARGETS), st.lists(pair, max_size=3))
    return st.one_of(noise.map(" ".join), plausible.map(lambda parts: " ".join([parts[0], *parts[1]])))


@pytest.fixture(scope="module")
def target(session_shell):
    with capture_output():
        session_shell.run_cell_magic("actor", "--no-track", TARGET)
    handle = session_shell.user_ns.pop("Target").remote()
    ray.get(handle.__ray_ready__.remote())
    yield handle
    ray.kill(handle)


@pytest.fixture
def fuzz_ns(ip, target):
    """The shell with names the fuzzed lines may point at: an actor handle, a dotted path to it."""
    ip.user_ns.update(h=target, box=types.SimpleNamespace(h=target), n=3)
    yield ip
    REFRESHER.end_all("test over")


def check_one(shell, run, magic_name: str) -> str:
    """Run one magic line: a normal result, or one plain `UsageError` line, naming the magic
    (`%name: ...`), that changes nothing. Any other exception fails the test.

    Returns which of the two it was: "ran" or "UsageError".
    """
    names = dict(shell.user_ns)
    threads = set(threading.enumerate())
    try:
        with capture_output():
            run()
        outcome = "ran"
    except UsageError as error:
        message = str(error)
        outcome = "UsageError"
        assert type(error) is UsageError
        assert message.splitlines() == [message], message  # exactly one line, no line break at all
        assert message.startswith(f"{magic_name}: ") and message.strip() != f"{magic_name}:", message
        assert shell.user_ns.keys() == names.keys()
        assert all(shell.user_ns[name] is value for name, value in names.items())
        assert not set(threading.enumerate()) - threads
    finally:
        REFRESHER.end_all("fuzz example over")
        shell.user_ns.clear()
        shell.user_ns.update(names)
    deadline = time.monotonic() + THREAD_GRACE_SECONDS
    while set(threading.enumerate()) - threads and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not set(threading.enumerate()) - threads
    return outcome


def run_magic(shell, magic: str, line: str) -> str:
    """`check_one` of `%magic line` (of `%%actor line` with `ACTOR_CELL` for `actor`)."""
    if magic == "actor":
        return check_one(shell, lambda: shell.run_cell_magic("actor", line, ACTOR_CELL), "%%actor")
    return check_one(shell, lambda: shell.run_line_magic(magic, line), f"%{magic}")


def parser_options(shell, magic: str) -> list[str]:
    kind = "cell" if magic == "actor" else "line"
    names = option_names(shell.magics_manager.magics[kind][magic])
    return [name for name in names if name not in FOLLOWS_UNTIL_STOPPED]


def assert_known_good_line_runs(shell, magic: str) -> None:
    """The control: with the fixture the fuzzed lines get, a good line of `magic` runs."""
    assert run_magic(shell, magic, KNOWN_GOOD[magic]) == "ran", f"the known-good line of {magic} did not run"


@pytest.mark.parametrize("magic", ["actor", *FUZZED_LINE_MAGICS])
def test_fuzzed_lines_give_a_result_or_one_usage_error_line(fuzz_ns, magic):
    assert_known_good_line_runs(fuzz_ns, magic)
    outcomes = Counter()

    @FUZZ
    @given(data=st.data())
    def fuzz(data):
        line = data.draw(lines(parser_options(fuzz_ns, magic)), label="line")
        outcome = run_magic(fuzz_ns, magic, line)
        event(outcome)
        outcomes[outcome] += 1

    fuzz()
    assert outcomes["ran"] and outcomes["UsageError"], outcomes  # the fuzz reached both: it was not all refused
    assert_known_good_line_runs(fuzz_ns, magic)  # and left the shell as it found it


def test_fuzzed_ray_shutdown_lines_are_refused_and_ray_keeps_running(fuzz_ns, monkeypatch):
    stopped = []
    with monkeypatch.context() as patch:  # the control reaches the shutdown, which only records that it did
        patch.setattr(magics.lifecycle, "shutdown", lambda: stopped.append(True) or True)
        assert_known_good_line_runs(fuzz_ns, "ray_shutdown")
    assert stopped == [True]
    assert ray.is_initialized()

    @FUZZ
    @given(line=lines(["--all", "--now", "-f"]).filter(str.strip))
    def fuzz(line):
        assert run_magic(fuzz_ns, "ray_shutdown", line) == "UsageError", line
        assert ray.is_initialized()

    fuzz()


@pytest.mark.parametrize("magic", ["actor", "ray_init", "actor_progress", "actor_table", "actors", "actor_logs"])
def test_every_option_with_every_odd_value(fuzz_ns, magic):
    """Not random: each option of each magic, alone beside a valid target, with each odd value."""
    assert_known_good_line_runs(fuzz_ns, magic)
    target = WHOLE_LINE_TARGETS.get(magic, "")
    outcomes = Counter()
    for option in parser_options(fuzz_ns, magic):
        for value in NUMBERS + JSON_PIECES + WORDS + PUNCTUATION:
            outcomes[run_magic(fuzz_ns, magic, f"{target} {option} {shlex.quote(value)}")] += 1
    assert outcomes["ran"] and outcomes["UsageError"], outcomes


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@settings(FUZZ, max_examples=150)
@given(value=st.dictionaries(st.text(max_size=5), JSON_VALUES, max_size=3))
def test_any_json_object_arrives_intact_through_ipython(fuzz_ns, value):
    """IPython's `$name`/`{expr}` expansion of magic lines never alters a JSON object."""
    text = json.dumps(value)
    with capture_output() as shown:
        result = fuzz_ns.run_cell(f"%%actor --name {shlex.quote(text)}\n{ACTOR_CELL}")
    fuzz_ns.user_ns.pop("Fuzzed", None)
    assert result.success
    assert shown.stdout == f"Fuzzed → Ray actor (name={text!r}, tracked)\n"
