"""Bad input: one plain `UsageError` line naming the bad part, and the namespace untouched."""

import pytest
from IPython.utils.capture import capture_output

from .conftest import usage_error

CELL = "marker = 'ran'\nclass Alpha:\n    def go(self):\n        return 1\n"
TWO_CLASSES = CELL + "class Beta:\n    pass\n"

BAD_ACTOR_CELLS = [
    ("--bogus", CELL, "unrecognized arguments: --bogus"),
    ("--num-cpus -1", CELL, "--num-cpus: expected a number ≥ 0, got '-1'"),
    ("--num-cpus nan", CELL, "--num-cpus: expected a number ≥ 0"),
    ("--num-gpus many", CELL, "--num-gpus: expected a number, got 'many'"),
    ("--num-cpus", CELL, "--num-cpus: expected one argument"),
    ("--memory lots", CELL, "--memory: expected a size in bytes"),
    ("--memory 0", CELL, "--memory: expected a size > 0"),
    ("--memory 1e400", CELL, "--memory: expected a size in bytes"),
    ("--resources '{bad'", CELL, "--resources: invalid JSON"),
    ("--resources '[1, 2]'", CELL, "--resources: expected a JSON object"),
    ("--resources '{\"disk\": -1}'", CELL, "resource 'disk' needs an amount ≥ 0"),
    ("--resources '{\"disk\": \"big\"}'", CELL, "resource 'disk' needs a number"),
    ("--resources '{\"CPU\": 1}'", CELL, "Use the 'num_cpus' and 'num_gpus' keyword"),
    ("--max-restarts -2", CELL, "--max-restarts: expected a whole number ≥ -1"),
    ("--max-task-retries 1.5", CELL, "--max-task-retries: expected a whole number"),
    ("--max-concurrency 0", CELL, "--max-concurrency: expected a whole number ≥ 1"),
    ("--runtime-env 'pip=x'", CELL, "--runtime-env: invalid JSON"),
    ("--lifetime forever", CELL, "--lifetime: invalid choice: 'forever'"),
    ("--name 'unclosed", CELL, "cannot split the options: No closing quotation"),
    ("--get-if-exists", CELL, "--get-if-exists needs --name"),
    ("--name solo", TWO_CLASSES, "--name names one actor but 2 classes would get it (Alpha, Beta)"),
    ("", "marker = 'ran'\nfrom collections import OrderedDict\n", "the cell defines no class"),
    ("OrderedDict", "from collections import OrderedDict\n" + CELL, "OrderedDict is not defined by this cell"),
    ("Gamma", CELL, "Gamma is not defined by this cell (it defines Alpha)"),
    ("'Al\npha'", CELL, "argument CLASS: expected a class name, got 'Al\\npha'"),
    ("", "marker = 'ran'\nif False:\n    class Never:\n        pass\n", "the cell did not define class Never"),
    ("", "marker = 'ran'\nclass Alpha:\n    pass\nAlpha = 3\n", "the cell did not define class Alpha"),
]


@pytest.mark.parametrize(("line", "cell", "expected"), BAD_ACTOR_CELLS, ids=[c[2][:40] for c in BAD_ACTOR_CELLS])
def test_bad_actor_cell(ip, line, cell, expected):
    before = dict(ip.user_ns)
    message = usage_error(lambda: ip.run_cell_magic("actor", line, cell))
    assert message.startswith("%%actor: ")
    assert expected in message
    assert ip.user_ns.keys() == before.keys()
    assert all(ip.user_ns[name] is value for name, value in before.items())


@pytest.mark.parametrize(
    ("magic", "line", "expected"),
    [
        ("ray_init", "--num-cpus 0", "%ray_init: argument --num-cpus: expected a whole number ≥ 1"),
        ("ray_init", "--object-store-memory -5", "%ray_init: argument --object-store-memory"),
        ("ray_init", "--runtime-env '{'", "%ray_init: argument --runtime-env: invalid JSON"),
        ("ray_init", "--dashboard --colour", "%ray_init: unrecognized arguments: --colour"),
        ("ray_init", "--address auto --num-cpus 2", "%ray_init: --num-cpus sizes a new local Ray, not a cluster"),
        ("ray_status", "--verbose", "%ray_status: takes no options"),
        ("actors", "'line\nbreak'", "%actors: unrecognized arguments: line\\nbreak"),
        ("ray_shutdown", "now", "%ray_shutdown: takes no options"),
    ],
)
def test_bad_session_magic_line(ip, magic, line, expected):
    assert expected in usage_error(lambda: ip.run_line_magic(magic, line))


def test_a_usage_error_shows_as_one_line_without_traceback(ip):
    with capture_output() as out:
        result = ip.run_cell("%%actor --num-cpus -3\nclass Alpha:\n    pass\n")
    shown = (out.stdout + out.stderr).strip()
    assert not result.success
    assert shown == "UsageError: %%actor: argument --num-cpus: expected a number ≥ 0, got '-3'"
    assert "Alpha" not in ip.user_ns


def test_a_failing_cell_shows_its_traceback_and_converts_nothing(ip):
    with capture_output() as out:
        result = ip.run_cell("%%actor\nclass Alpha:\n    pass\nraise RuntimeError('broken cell')\n")
    assert isinstance(result.error_in_exec, RuntimeError)
    assert "broken cell" in out.stdout + out.stderr
    assert isinstance(ip.user_ns["Alpha"], type)  # as any failing cell leaves it: a plain class


def test_a_syntax_error_is_shown_as_for_any_cell(ip):
    with capture_output() as out:
        ip.run_cell("%%actor\nclass Alpha(:\n    pass\n")
    assert "SyntaxError" in out.stdout + out.stderr
    assert "Traceback" not in out.stdout + out.stderr
    assert "Alpha" not in ip.user_ns
