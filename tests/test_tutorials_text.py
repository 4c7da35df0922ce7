"""The tutorials' text: every part of the tutorial each notebook re-expresses is there, links between
notebooks lead somewhere, and the Chinese notebooks read as Chinese (one line per paragraph, check cells
that answer in Chinese, the terms of `notebooks/zh/README.md`, the same code as the English ones)."""

import ast
import json
import re
from pathlib import Path

import pytest
from IPython.core.inputtransformer2 import TransformerManager

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
ZH = NOTEBOOKS / "zh"
TUTORIALS = ["01_remote_stateful_classes", "02_actor_tree_pattern", "03_why_actors_monte_carlo_pi"]
TRANSLATED = [*TUTORIALS, "05_when_things_go_wrong"]  # the notebooks that have a Chinese version

CJK = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef"
LINE_BREAK_IN_CHINESE = re.compile(f"[{CJK}]\n[{CJK}]")
HAS_CJK = re.compile(f"[{CJK}]")
CHECK_CELL = re.compile(r"^def check_\w+\(", re.MULTILINE)
NOTEBOOK_LINK = re.compile(r"\]\(([^)\s]+\.ipynb)\)")

# The named parts of the tutorial each notebook re-expresses (`../shared/seeds/`), in its order, each a
# pattern any of the notebook's cells must match. They are code, links and outputs, so they hold for the
# Chinese notebooks too.
SEED_PARTS = {
    "01_remote_stateful_classes": [
        ("the plain base class ActorCls", r"^class ActorCls:"),
        (
            "ActorClsOne and ActorClsTwo, its subclasses, as actors",
            r"class ActorClsOne\(ActorCls\)[\s\S]*class ActorClsTwo\(ActorCls\)",
        ),
        (
            "the driver's random calls, counted locally",
            r"random\.choice\(CALLERS_NAMES\)[\s\S]*count_dict\[name\] \+= 1",
        ),
        ("each actor's own counts, fetched", r"get_all_method_calls\.remote\(\)"),
        ("the exercise: ActorClsThree", r"class ActorClsThree\(ActorCls\)"),
        ("an actor with a name", r"\.options\(name="),
        (
            "that actor reached by its name from another program",
            r"subprocess\.run\([\s\S]*ray\.get_actor\(|ray\.get_actor\([\s\S]*subprocess\.run\(",
        ),
        ("an actor ended by hand", r"ray\.kill\("),
        ("the π progress actor", r"class ProgressPIActor"),
        ("the sampling task, reporting every frequency_report samples", r"def sampling_task\([\s\S]*frequency_report"),
        ("the tunable parameters", r"NUM_SAMPLING_TASKS[\s\S]*NUM_SAMPLES_PER_TASK[\s\S]*SAMPLE_REPORT_FREQUENCY"),
        (
            "the polling loop the tutorial writes",
            r"while True:\n\s+progress = ray\.get\(progress_actor\.get_progress\.remote\(\)\)",
        ),
        ("π from the tasks' results", r"sum\(ray\.get\(results\)\)"),
        ("a link to why Ray needs actors", r"\]\(03_why_actors_monte_carlo_pi\.ipynb\)"),
        ("a link to the next tutorial, the actor tree", r"\]\(02_actor_tree_pattern\.ipynb\)"),
        ("the homework's reading", r"docs\.ray\.io/en/latest/ray-core/actors\.html"),
    ],
    "02_actor_tree_pattern": [
        ("the model factory", r"class Model:[\s\S]*def model_factory\("),
        ("the three training functions", r"def lr_func\(\)[\s\S]*def cl_func\(\)[\s\S]*def nn_func\(\)"),
        ("the worker actor with its state", r"class Worker:[\s\S]*def state\(self\)"),
        ("the supervisor that creates its workers", r"class Supervisor:[\s\S]*Worker\.remote\("),
        ("the supervisor's terminate()", r"def terminate\(self\)[\s\S]*ray\.kill\(worker\)"),
        ("terminate() called, then the supervisor killed", r"sup\.terminate\.remote\(\)[\s\S]*ray\.kill\(sup\)"),
        ("the workers' states watched until all are DONE", r"--until DONE"),
        ("the message actor", r"class MessageActor:[\s\S]*def add_message\([\s\S]*def get_and_clear_messages\("),
        ("worker tasks holding the message actor's handle", r"def worker\(message_actor"),
        ("the batches of new messages printed as they come", r"print\(\"New messages:\""),
        ("the exercise: a logging actor and its experiments", r"def run_experiment\([\s\S]*class LoggingActor"),
        ("Ray's page on the tree of actors pattern", r"docs\.ray\.io/en/latest/ray-core/patterns/tree-of-actors\.html"),
        ("Ray's design patterns", r"docs\.ray\.io/en/latest/ray-core/patterns/index\.html"),
        ("Ray's actors page", r"docs\.ray\.io/en/latest/ray-core/actors\.html"),
        (
            "the first distributed application post",
            r"anyscale\.com/blog/writing-your-first-distributed-python-application",
        ),
        ("a link back to remote stateful classes", r"\]\(01_remote_stateful_classes\.ipynb\)"),
    ],
    "03_why_actors_monte_carlo_pi": [
        ("the progress actor", r"class ProgressActor:[\s\S]*def report_progress\([\s\S]*def get_progress\("),
        ("the sampling task", r"def sampling_task\("),
        ("ten tasks", r"NUM_SAMPLING_TASKS = 10"),
        ("the progress actor created", r"progress_actor = ProgressActor\.remote\(TOTAL_NUM_SAMPLES\)"),
        ("the tasks launched, an ObjectRef each", r"results = \[sampling_task\.remote\("),
        (
            "an ObjectRef from a task and from an actor call",
            r"type\(results\[0\]\)\.__name__[\s\S]*type\(progress_ref\)\.__name__",
        ),
        ("ray.get blocking until the results are there", r"ray\.get\(results, timeout="),
        (
            "the polling loop the tutorial writes",
            r"while True:\n\s+progress = ray\.get\(progress_actor\.get_progress\.remote\(\)\)",
        ),
        ("π from a list of ObjectRefs", r"sum\(ray\.get\(results\)\)"),
        ("a link on to remote stateful classes", r"\]\(01_remote_stateful_classes\.ipynb\)"),
    ],
}


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def source(cell: dict) -> str:
    return "".join(cell["source"])


def stdout(cell: dict) -> str:
    return "".join("".join(output["text"]) for output in cell.get("outputs", []) if output.get("name") == "stdout")


def markdown(path: Path) -> list[tuple[int, str]]:
    return [(index, source(cell)) for index, cell in enumerate(cells(path)) if cell["cell_type"] == "markdown"]


def prose(text: str) -> str:
    """Markdown without its code (fenced and inline) and link targets: the words a reader reads."""
    text = re.sub(r"```[\s\S]*?```", " ", text)
    text = re.sub(r"`[^`]*`", " ", text)
    return re.sub(r"\]\([^)]*\)", "]", text)


def string_literals(code: str) -> list[str]:
    """The text of each string literal in `code`, an f-string's fixed parts joined."""
    tree = ast.parse(code)
    parts = {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for part in node.values}
    literals = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            literals.append("".join(part.value for part in node.values if isinstance(part, ast.Constant)))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in parts:
            literals.append(node.value)
    return literals


def glossary() -> list[tuple[str, str]]:
    """(term, a form to avoid) for each form in the `不用` column of notebooks/zh/README.md's table."""
    rows = re.findall(r"^\|(.+)\|(.+)\|(.+)\|$", (ZH / "README.md").read_text(encoding="utf-8"), re.MULTILINE)
    avoided = [(term.strip(), form.strip()) for _, term, forms in rows[2:] for form in forms.split("、")]
    return [(term, form) for term, form in avoided if form]


def normalized(code: str) -> str:
    """A code cell's syntax tree, its strings (messages, docstrings) blanked: what it does, in any language."""

    class Blank(ast.NodeTransformer):
        def visit_Constant(self, node):
            return ast.Constant("") if isinstance(node.value, str) else node

        def visit_JoinedStr(self, node):
            values = sorted(
                ast.dump(self.visit(value)) for value in node.values if isinstance(value, ast.FormattedValue)
            )
            return ast.Constant(" ".join(values))

    return ast.dump(Blank().visit(ast.parse(TransformerManager().transform_cell(code))))


@pytest.mark.parametrize("name", TUTORIALS)
@pytest.mark.parametrize("folder", [NOTEBOOKS, ZH], ids=["en", "zh"])
def test_every_named_part_of_the_tutorial_is_there(folder, name):
    text = "\n".join(source(cell) for cell in cells(folder / f"{name}.ipynb"))
    missing = [what for what, pattern in SEED_PARTS[name] if not re.search(pattern, text, re.MULTILINE)]
    assert not missing, f"{folder.name}/{name} lacks: {'; '.join(missing)}"


@pytest.mark.parametrize(
    "path",
    [*sorted(NOTEBOOKS.glob("*.ipynb")), *sorted(ZH.glob("*.ipynb"))],
    ids=lambda path: str(path.relative_to(NOTEBOOKS)),
)
def test_every_link_to_a_notebook_leads_to_one(path):
    for index, text in markdown(path):
        for target in NOTEBOOK_LINK.findall(text):
            assert (path.parent / target).is_file(), f"{path.name} [{index}] links to {target}, which does not exist"


@pytest.mark.parametrize("name", TRANSLATED)
def test_chinese_paragraphs_are_one_line_each(name):
    breaks = [
        f"[{index}] …{match.group()!r}…"
        for index, text in markdown(ZH / f"{name}.ipynb")
        for match in LINE_BREAK_IN_CHINESE.finditer(text)
    ]
    assert not breaks, f"zh/{name}: a line break between two Chinese characters shows as a space: {breaks[:5]}"


@pytest.mark.parametrize("name", TUTORIALS)
def test_chinese_check_cells_answer_in_chinese(name):
    english = [cell for cell in cells(NOTEBOOKS / f"{name}.ipynb") if CHECK_CELL.search(source(cell))]
    chinese = [
        (index, cell) for index, cell in enumerate(cells(ZH / f"{name}.ipynb")) if CHECK_CELL.search(source(cell))
    ]
    assert len(chinese) == len(english) > 0
    for index, cell in chinese:
        answer = stdout(cell).strip()
        assert answer.startswith("✓"), f"zh/{name} [{index}]: the stored check answers {answer!r}"
        assert HAS_CJK.search(answer), f"zh/{name} [{index}]: the check answers in English: {answer!r}"
        messages = [text for text in string_literals(source(cell)) if text.startswith(("✓", "✗"))]
        english_messages = [message for message in messages if not HAS_CJK.search(message)]
        assert not english_messages, f"zh/{name} [{index}]: check messages in English: {english_messages}"


@pytest.mark.parametrize("name", TRANSLATED)
def test_chinese_notebooks_keep_the_glossary(name):
    terms = glossary()
    assert len(terms) >= 10
    found = [
        f"[{index}] {form!r} (write {term})"
        for index, text in markdown(ZH / f"{name}.ipynb")
        for term, form in terms
        if form in prose(text)
    ]
    assert not found, f"zh/{name} uses forms the glossary (notebooks/zh/README.md) avoids: {found}"


@pytest.mark.parametrize("name", TRANSLATED)
def test_chinese_notebooks_run_the_english_code(name):
    english, chinese = cells(NOTEBOOKS / f"{name}.ipynb"), cells(ZH / f"{name}.ipynb")
    assert [cell["cell_type"] for cell in chinese] == [cell["cell_type"] for cell in english]
    for index, (en, zh) in enumerate(zip(english, chinese, strict=True)):
        if en["cell_type"] == "code":
            assert normalized(source(zh)) == normalized(source(en)), (
                f"zh/{name} [{index}] differs from the English code"
            )
