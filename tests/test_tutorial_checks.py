"""The tutorials' check cells, given right and wrong answers of each kind: each answer gets the message
it deserves. A notebook's code cells up to the exercise run in a real shell on a real Ray (two CPUs, as in
the notebooks), then an answer, then the check cell, as a learner would run them. The Chinese check cells
are these with their messages translated (tests/test_tutorials_text.py holds them to the same code)."""

import gc
import json
import sys
import time
from pathlib import Path

import pytest
import ray
from IPython.utils.capture import capture_output

import ray_magics

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
SESSION_MAGICS = ("%load_ext", "%ray_init", "%ray_shutdown")  # the session shell has them done


def code_cells(name: str) -> list[tuple[str, bool]]:
    """(source, hidden) of each code cell of notebooks/`name`.ipynb."""
    cells = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text(encoding="utf-8"))["cells"]
    return [
        ("".join(cell["source"]), bool(cell["metadata"].get("jupyter", {}).get("source_hidden")))
        for cell in cells
        if cell["cell_type"] == "code"
    ]


def exercise(name: str, check: str) -> tuple[list[str], str]:
    """The cells a learner runs before the exercise whose check defines `check`, and that check cell."""
    cells = code_cells(name)
    at = next(index for index, (source, _) in enumerate(cells) if f"def {check}(" in source)
    assert cells[at - 1][1] and not cells[at - 2][0].strip(), "expected: empty cell, solution, check"
    before = [source for source, _ in cells[: at - 2] if not source.startswith(SESSION_MAGICS)]
    return before, cells[at][0]


def run(shell, source: str, must_succeed: bool = True) -> str:
    """Run a cell as a notebook would; what it printed."""
    with capture_output() as captured:
        result = shell.run_cell(source)
    assert result.success or not must_succeed, f"cell failed: {source[:200]!r}\n{captured.stdout}{captured.stderr}"
    return captured.stdout


def handles_in(value, depth: int = 0):
    """The actor handles in a value of the namespace, and in its lists and dicts."""
    if isinstance(value, ray.actor.ActorHandle):
        yield value
    elif depth < 2 and isinstance(value, (list, tuple, dict)):
        for item in value.values() if isinstance(value, dict) else value:
            yield from handles_in(item, depth + 1)


def actors_left(before: set[str]) -> list[str]:
    """The classes of the actors alive now that were not alive `before` (their ids)."""
    return [row["class"] for row in ray_magics.actors().rows if row["id"] not in before]


@pytest.fixture
def learner(ip, no_live_views):
    """The session shell, left with no actor alive that the test's cells created."""
    before = {row["id"] for row in ray_magics.actors().rows}
    yield ip
    for handle in {id(h): h for value in list(ip.user_ns.values()) for h in handles_in(value)}.values():
        ray.kill(handle)
    # IPython keeps the last traceback (sys.last_traceback, InteractiveTB.tb), and through a failed answer's
    # frames the handles its cell's namespace held then.
    sys.last_type = sys.last_value = sys.last_traceback = ip.InteractiveTB.tb = None
    gc.collect()
    deadline = time.monotonic() + 30
    while left := actors_left(before):
        assert time.monotonic() < deadline, f"actors the test's cells made are still alive: {left}"
        time.sleep(0.1)


def answers(shell, setup: list[str], check: str, variants: dict[str, str]) -> dict:
    """The setup cells, then each variant's answer followed by the check cell, in order (an answer may
    build on what the ones before it left, as a learner's second try does): variant -> what the check printed."""
    for source in setup:
        run(shell, source)
    printed = {}
    for variant, answer in variants.items():
        if answer:
            run(shell, answer, must_succeed=False)  # a wrong answer may fail in its own cell, as in a notebook
        printed[variant] = run(shell, check).strip()
    return printed


def assert_messages(printed: dict, expected: dict) -> None:
    wrong = {
        variant: text
        for variant, text in printed.items()
        if not text.startswith(expected[variant]) or len(text.splitlines()) != 1
    }
    assert not wrong, "check messages that do not fit the answer:\n" + "\n".join(
        f"  {variant}: got {text!r}, expected it to start with {expected[variant]!r}" for variant, text in wrong.items()
    )


THREE_CLASS = """
{decorator}
class ActorClsThree{base}:
    def __init__(self, name: str):
        {init}

    def method(self, **kwargs) -> None:
        time.sleep(kwargs["timeout"])
        {count}
"""
DRIVE_THREE = """
CALLERS_NAMES = ["ActorClsOne", "ActorClsTwo", "ActorClsThree"]
CALLERS_CLS_DICT["ActorClsThree"] = ActorClsThree.remote("ActorClsThree")
{reset}count_dict["ActorClsThree"] = 0
CALL_KWARGS = {{
    "ActorClsOne": {{"timeout": 0.01, "store": "mongo_db"}},
    "ActorClsTwo": {{"timeout": 0.015, "store": "delta"}},
    "ActorClsThree": {{"timeout": 0.02, "store": "s3"}},
}}
for _ in range({rounds}):
    for _ in range(15):
        name = random.choice(CALLERS_NAMES)
        count_dict[name] += 1
        CALLERS_CLS_DICT[name].method.remote(**CALL_KWARGS[name])
"""


def three(
    decorator="@ray_magics.actor",
    base="(ActorCls)",
    count='self.method_calls["method"] += 1',
    reset="",
    rounds=3,
    init="super().__init__(name)",
) -> str:
    cls = THREE_CLASS.format(decorator=decorator, base=base, count=count, init=init)
    return cls + DRIVE_THREE.format(reset=reset, rounds=rounds)


def test_the_actor_cls_three_check_answers_every_kind_of_answer(learner):
    setup, check = exercise("01_remote_stateful_classes", "check_actor_cls_three")
    variants = {  # count_dict starting over comes last: the counts disagree from then on
        "nothing yet": "",
        "a plain class": THREE_CLASS.format(
            decorator="", base="(ActorCls)", init="super().__init__(name)", count='self.method_calls["method"] += 1'
        ),
        "%%actor with the driver in the same cell": "%%actor\n" + three(decorator=""),
        "added, but no rounds run": three(rounds=0),
        "the class itself in CALLERS_CLS_DICT": three(rounds=0).replace(
            'ActorClsThree.remote("ActorClsThree")', "ActorClsThree"
        ),
        "not a subclass of ActorCls": three(
            base="", init='self.name = name\n        self.method_calls = {"method": 0}'
        ),
        "a method that does not count": three(count="pass"),
        "a plain-Ray answer, @ray.remote": three(decorator="@ray.remote"),
        "the solution": three(),
        "count_dict started over": three(reset='count_dict = {"ActorClsOne": 0, "ActorClsTwo": 0}\n'),
    }
    expected = {
        "nothing yet": "✗ ActorClsThree is not defined yet",
        "a plain class": "✗ ActorClsThree is a plain class",
        "%%actor with the driver in the same cell": "✗ ActorClsThree is a plain class",
        "added, but no rounds run": "✗ the driver has not called ActorClsThree yet",
        "the class itself in CALLERS_CLS_DICT": "✗ CALLERS_CLS_DICT['ActorClsThree'] is not an actor",
        "not a subclass of ActorCls": "✗ ActorClsThree has no get_all_method_calls()",
        "count_dict started over": "✗ ActorClsOne counted",
        "a method that does not count": "✗ ActorClsThree counted 0 of the",
        "a plain-Ray answer, @ray.remote": "✓ all three actors counted their calls as count_dict did",
        "the solution": "✓ all three actors counted their calls as count_dict did",
    }
    printed = answers(learner, setup, check, variants)
    assert_messages(printed, expected)
    assert "made with @ray.remote" in printed["a plain-Ray answer, @ray.remote"]
    assert "@ray.remote" not in printed["the solution"]
    assert "%%actor cell" in printed["%%actor with the driver in the same cell"]


CAREFUL = """
{decorator}
class CarefulSupervisor({base}):
    def state(self) -> list[str]:
{body}
"""
PER_WORKER = """        states = []
        for worker in self.workers:
            try:
                states.append(ray.get(worker.state.remote()))
            except ray.exceptions.ActorDiedError:
                states.append({dead})
        return states"""
WHOLE_LIST = """        try:
            return ray.get([worker.state.remote() for worker in self.workers])
        except ray.exceptions.ActorDiedError:
            return ["DEAD"] * len(self.workers)"""
UNCAUGHT = """        return ray.get([worker.state.remote() for worker in self.workers])"""
LOGGER = """
from collections import defaultdict


@ray_magics.actor
class LoggingActor:
    def __init__(self):
        self.logs = defaultdict(list)

    def log(self, index, message):
        self.logs[{key}].append(message)

    def get_logs(self):
        {get_logs}


logging_actor = LoggingActor.remote()
experiment_ids = [run_experiment.remote(i, logging_actor) for i in range(3)]
{wait}logs = {fetch}
"""


def careful(decorator="%%actor", base="ray_magics.original(Supervisor)", body=None, dead='"DEAD"') -> str:
    body = body or PER_WORKER.format(dead=dead)
    return CAREFUL.format(decorator=decorator, base=base, body=body).lstrip("\n")


def logger(
    key="index",
    get_logs="return dict(self.logs)",
    wait="ray.get(experiment_ids)\n",
    fetch="ray.get(logging_actor.get_logs.remote())",
) -> str:
    return LOGGER.format(key=key, get_logs=get_logs, wait=wait, fetch=fetch)


def test_the_actor_tree_checks_answer_every_kind_of_answer(learner):
    setup, check = exercise("02_actor_tree_pattern", "check_careful_supervisor")
    variants = {
        "nothing yet": "",
        "a plain class": careful(decorator=""),
        "not a subclass of Supervisor": careful(base=""),
        "no error caught": careful(body=UNCAUGHT),
        "the error caught around the whole list": careful(body=WHOLE_LIST),
        "a worker's state replaced by 'dead'": careful(dead='"dead"'),
        "a plain-Ray answer, @ray.remote": careful(decorator="@ray.remote"),
        "the solution": careful(),
    }
    expected = {
        "nothing yet": "✗ CarefulSupervisor is not defined yet",
        "a plain class": "✗ CarefulSupervisor is a plain class",
        "not a subclass of Supervisor": "✗ AttributeError",
        "no error caught": "✗ with its cl worker dead, state() raised ActorDiedError",
        "the error caught around the whole list": "✗ with only its cl worker dead, state() returned ['DEAD', 'DEAD',",
        "a worker's state replaced by 'dead'": "✗ with its cl worker dead, state() returned ['PENDING', 'dead',",
        "a plain-Ray answer, @ray.remote": "✓ with its cl worker dead, CarefulSupervisor still reports",
        "the solution": "✓ with its cl worker dead, CarefulSupervisor still reports",
    }
    assert_messages(answers(learner, setup, check, variants), expected)

    more_setup, check = exercise("02_actor_tree_pattern", "check_logging_actor")
    variants = {
        "nothing yet": "",
        "the logs' ObjectRef, not the logs": logger(fetch="logging_actor.get_logs.remote()"),
        "the logs fetched before the experiments ran": logger(wait=""),
        "get_logs() that clears the logs": logger(
            get_logs="logs, self.logs = dict(self.logs), defaultdict(list)\n        return logs"
        ),
        "the experiments' indexes as strings": logger(key="str(index)"),
        "get_logs() that returns a list": logger(
            get_logs="return [line for lines in self.logs.values() for line in lines]"
        ),
        "the solution": logger(),
    }
    expected = {
        "nothing yet": "✗ LoggingActor is not defined yet",
        "the logs' ObjectRef, not the logs": "✗ logs is an ObjectRef",
        "the logs fetched before the experiments ran": "✗ logs has {",
        "get_logs() that clears the logs": "✗ logging_actor.get_logs() now returns something else",
        "the experiments' indexes as strings": "✗ logs has the keys ['0', '1', '2']",
        "get_logs() that returns a list": "✗ logs is a list",
        "the solution": "✓ logging_actor holds 10 lines for each of the 3 experiments",
    }
    setup_after_the_first = more_setup[len(setup) :]
    assert_messages(answers(learner, setup_after_the_first, check, variants), expected)


COUNTER = """
{decorator}
class SampleCounter:
    def __init__(self{init}):
        self.total_num_samples = {total}
        self.num_samples_completed_per_task = {{}}

    def report_progress(self, task_id: int, num_samples_completed: int) -> None:
        {report}

    def get_progress(self):
        done = sum(self.num_samples_completed_per_task.values())
        return {progress}

{create}"""
BOARD = """
{decorator}
class TaskBoard:
    def __init__(self, num_tasks: int, samples_per_task: int):
        self.samples_per_task = samples_per_task
        self.samples_done = {{task_id: 0 for task_id in range(num_tasks)}}

    def report_progress(self, task_id: int, num_samples_completed: int) -> None:
        self.samples_done[task_id] = num_samples_completed

    def states(self):
        rows = []
        for task_id, done in sorted(self.samples_done.items()):
            state = {state}
            rows.append({{"task": task_id, "samples": done, "state": state}})
        return {rows}

{create}"""
RIGHT_STATE = '"PENDING" if done == 0 else "DONE" if done == self.samples_per_task else "RUNNING"'
RUN_COUNTER = """sample_counter = SampleCounter.remote({args})
counted_results = [sampling_task.remote(NUM_SAMPLES_PER_TASK, i, sample_counter) for i in range({tasks})]
ray.get(counted_results)"""
RUN_BOARD = """board = TaskBoard.remote(NUM_SAMPLING_TASKS, NUM_SAMPLES_PER_TASK)
board_results = [sampling_task.remote(NUM_SAMPLES_PER_TASK, i, board) for i in range({tasks})]
ray.get(board_results)"""


def counter(
    decorator="@ray_magics.actor",
    init=", total_num_samples: int",
    total="total_num_samples",
    report="self.num_samples_completed_per_task[task_id] = num_samples_completed",
    progress="done, self.total_num_samples",
    create=None,
):
    create = RUN_COUNTER.format(args="TOTAL_NUM_SAMPLES", tasks=10) if create is None else create
    return COUNTER.format(decorator=decorator, init=init, total=total, report=report, progress=progress, create=create)


def board(decorator="@ray_magics.actor", state=RIGHT_STATE, rows="rows", create=None):
    create = RUN_BOARD.format(tasks=10) if create is None else create
    return BOARD.format(decorator=decorator, state=state, rows=rows, create=create)


def test_the_why_actors_checks_answer_every_kind_of_answer(learner):
    setup, check = exercise("03_why_actors_monte_carlo_pi", "check_sample_counter")
    variants = {
        "nothing yet": "",
        "a plain class": counter(decorator="", create=""),
        "the class, but no sample_counter": counter(create=""),
        "a constructor that takes no total": counter(init="", total="1_000_000", create=""),
        "a fraction, as ProgressActor returns": counter(progress="done / self.total_num_samples"),
        "each report added to the count": counter(
            report="self.num_samples_completed_per_task[task_id] = "
            "self.num_samples_completed_per_task.get(task_id, 0) + num_samples_completed"
        ),
        "sample_counter with another total": counter(create=RUN_COUNTER.format(args="100", tasks=10)),
        "sample_counter, no tasks run with it": counter(create=RUN_COUNTER.format(args="TOTAL_NUM_SAMPLES", tasks=0)),
        "a plain-Ray answer, @ray.remote": counter(decorator="@ray.remote"),
        "the solution": counter(),
    }
    expected = {
        "nothing yet": "✗ SampleCounter is not defined yet",
        "a plain class": "✗ SampleCounter is a plain class",
        "a fraction, as ProgressActor returns": "✗ get_progress returned 0.7: return a (done, total) pair",
        "each report added to the count": "✗ after reports of 30 and 20 samples, then 50 for the first task, "
        "get_progress returned (100, 100)",
        "a constructor that takes no total": "✗ TypeError",
        "the class, but no sample_counter": "✗ sample_counter is not defined yet",
        "sample_counter with another total": "✗ sample_counter's total is 100",
        "sample_counter, no tasks run with it": "✗ sample_counter has 0 of 1,000,000 samples",
        "a plain-Ray answer, @ray.remote": "✓ get_progress returns (done, total)",
        "the solution": "✓ get_progress returns (done, total)",
    }
    assert_messages(answers(learner, setup, check, variants), expected)

    more_setup, check = exercise("03_why_actors_monte_carlo_pi", "check_task_board")
    variants = {
        "nothing yet": "",
        "a plain class": board(decorator="", create=""),
        "the class, but no board": board(create=""),
        "a dict of states, not a list of rows": board(rows='{row["task"]: row["state"] for row in rows}'),
        "RUNNING before any report": board(state='"DONE" if done == self.samples_per_task else "RUNNING"'),
        "board, no tasks run with it": board(create=RUN_BOARD.format(tasks=0)),
        "the solution": board(),
    }
    expected = {
        "nothing yet": "✗ TaskBoard is not defined yet",
        "a plain class": "✗ TaskBoard is a plain class",
        "a dict of states, not a list of rows": "✗ before any report, TaskBoard(3, 100).states() returned {0:",
        "RUNNING before any report": "✗ before any report, TaskBoard(3, 100).states() returned [{'task': 0, "
        "'samples': 0, 'state': 'RUNNING'}",
        "the class, but no board": "✗ board is not defined yet",
        "board, no tasks run with it": "✗ 0 of the 10 tasks are DONE on board",
        "the solution": "✓ states() follows each task from PENDING through RUNNING to DONE",
    }
    assert_messages(answers(learner, more_setup[len(setup) :], check, variants), expected)
