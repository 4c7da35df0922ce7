"""The package's layers: imports point one way (lazy imports included), no cycles, a small top level."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "ray_magics"
LAYERS = (  # lowest first: a module imports from its own layer or those before it
    "errors", "settings", "ray_internals", "session", "cluster", "classes", "cells", "live", "options", "magics",
    "__init__",
)
MOST_TOP_LEVEL_MODULES = 8


def module_names() -> dict[str, Path]:
    """Dotted module name (without the package's) -> file, `__init__` for the package root."""
    names = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if len(parts) > 1 and parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def imported(module: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules that `module` imports anywhere in its file (inside functions too)."""
    if path.name == "__init__.py":
        package = [] if module == "__init__" else module.split(".")
    else:
        package = module.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            targets = [*_from_targets(node, package)]
        else:
            continue
        for target in targets:
            name = target.removeprefix("ray_magics").lstrip(".") if target.startswith("ray_magics") else None
            if name is not None:
                found.add(_known_module(name or "__init__", known))
    if module == "__init__":  # the package root's public names, imported by name on first use
        found |= {_known_module(name.lstrip("."), known) for name in _lazy_table(path)}
    return found - {module}


def _from_targets(node: ast.ImportFrom, package: list[str]):
    if node.level:
        base = package[: len(package) - node.level + 1]
        prefix = ".".join(["ray_magics", *base, *([node.module] if node.module else [])])
    else:
        prefix = node.module or ""
    for alias in node.names:
        yield f"{prefix}.{alias.name}"


def _known_module(name: str, known: set[str]) -> str:
    """The module a dotted name falls in (`session.threads.IMPORT` -> `session.threads`)."""
    while name not in known and "." in name:
        name = name.rpartition(".")[0]
    return name if name in known else "__init__"


def _lazy_table(path: Path) -> list[str]:
    """The modules named in the package root's table of lazy public names."""
    tree = ast.parse(path.read_text())
    table = next(node.value for node in ast.walk(tree)
                 if isinstance(node, ast.AnnAssign | ast.Assign) and isinstance(node.value, ast.Dict))
    return [value.value for value in table.values]


def layer(module: str) -> int:
    return LAYERS.index(module.split(".")[0])


def import_graph() -> dict[str, set[str]]:
    names = module_names()
    return {module: imported(module, path, set(names)) for module, path in names.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of `graph` (module -> modules it imports), or None."""
    state = {}  # module -> "open" while on the path, "done" once explored

    def visit(module, path):
        state[module] = "open"
        for target in sorted(graph.get(module, ())):
            if state.get(target) == "open":
                return [*path[path.index(target):], target] if target in path else [module, target]
            if target not in state and (cycle := visit(target, [*path, target])):
                return cycle
        state[module] = "done"
        return None

    for module in sorted(graph):
        if module not in state and (cycle := visit(module, [module])):
            return cycle
    return None


def test_every_module_sits_in_a_layer():
    assert all(module.split(".")[0] in LAYERS for module in module_names())


def test_no_module_imports_from_a_layer_above_it():
    upward = [
        f"{module} -> {target}"
        for module, targets in import_graph().items()
        for target in targets
        if layer(target) > layer(module)
    ]
    assert upward == []


def test_the_package_has_no_import_cycle():
    assert find_cycle(import_graph()) is None


def test_the_cycle_finder_finds_cycles():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_graph_sees_lazy_and_relative_imports():
    graph = import_graph()
    assert "session.background" in graph["session.host"]  # a module-level relative import
    assert "live.progress_view" in graph["live.api"]  # an import inside a function
    assert {"classes.actor_class", "classes.count_reader", "live.api"} <= graph["__init__"]  # the lazy public names


# (ray_internals imports Ray inside its functions only: an actor that creates actors reaches it)
RUN_INSIDE_ACTORS = {"classes.counting", "classes.submissions", "classes.tagged_output", "ray_internals"}


@pytest.mark.parametrize("module", sorted(RUN_INSIDE_ACTORS))
def test_what_runs_inside_actors_imports_the_standard_library_alone(module):
    assert import_graph()[module] <= RUN_INSIDE_ACTORS - {module}


def test_the_top_level_is_small():
    top = [path.name for path in PACKAGE.glob("*.py")]
    assert len(top) <= MOST_TOP_LEVEL_MODULES, top


def private_uses(path: Path) -> list[str]:
    """Imports of Ray's submodules and `obj._name` attributes of objects not the module's own (`self`, `cls`).

    Display hooks such as `_repr_mimebundle_` (a leading and a trailing underscore) are
    public protocols, not private names.
    """
    uses = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            uses += [f"import {alias.name}" for alias in node.names if alias.name.startswith("ray.")]
        elif isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").startswith("ray."):
            uses.append(f"from {node.module} import ...")
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.endswith("_"):
            if ast.unparse(node.value) not in ("self", "cls"):
                uses.append(f"{ast.unparse(node.value)}.{node.attr}")
    return uses


def test_private_ray_apis_are_used_in_ray_internals_alone():
    outside = {
        module: uses for module, path in module_names().items()
        if module != "ray_internals" and (uses := private_uses(path))
    }
    assert outside == {}
    assert private_uses(PACKAGE / "ray_internals.py")  # the check sees what it looks for
