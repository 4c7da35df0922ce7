"""The package's layers: imports point one way (lazy imports included), no cycles, a small top level."""

import ast
import re
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
    """The module a dotted name falls in (`session.host.THREAD_NAME` -> `session.host`)."""
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


# The `RAY_` environment names Ray documents for users; any other is one of Ray's internal knobs.
DOCUMENTED_RAY_ENVIRONMENT = {"RAY_ADDRESS", "RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH"}
ENVIRONMENT_NAME = re.compile(r"RAY_[A-Za-z0-9_]+")
RAY_DUNDER = re.compile(r"__ray_(?!magics)[a-z_]+__")  # `__ray_magics…` names are the package's own


def private_uses(path: Path) -> list[str]:
    """Ray's private names used in a file: imports of Ray's submodules, `obj._name` attributes of
    objects not the module's own (`self`, `cls`), Ray's `__ray_…__` attributes, and `RAY_`
    environment names that Ray does not document for users.

    Display hooks such as `_repr_mimebundle_` (a leading and a trailing underscore) are
    public protocols, not private names.
    """
    uses = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            uses += [f"import {alias.name}" for alias in node.names if alias.name.startswith("ray.")]
        elif isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").startswith("ray."):
            uses.append(f"from {node.module} import ...")
        elif isinstance(node, ast.Attribute) and RAY_DUNDER.fullmatch(node.attr):
            uses.append(f"{ast.unparse(node.value)}.{node.attr}")
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.endswith("_"):
            if ast.unparse(node.value) not in ("self", "cls"):
                uses.append(f"{ast.unparse(node.value)}.{node.attr}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if RAY_DUNDER.fullmatch(node.value):
                uses.append(repr(node.value))
            elif ENVIRONMENT_NAME.fullmatch(node.value) and not node.value.startswith("RAY_MAGICS_"):
                uses += [repr(node.value)] if node.value not in DOCUMENTED_RAY_ENVIRONMENT else []
    return uses


def test_private_ray_apis_are_used_in_ray_internals_alone():
    outside = {
        module: uses for module, path in module_names().items()
        if module != "ray_internals" and (uses := private_uses(path))
    }
    assert outside == {}
    assert private_uses(PACKAGE / "ray_internals.py")  # the check sees what it looks for


def test_the_private_use_check_sees_each_kind(tmp_path):
    module = tmp_path / "module.py"
    module.write_text(
        "import ray.util.client\nfrom ray._private import worker\nworker._global_node\n"
        "f.__ray_concurrency_group__ = 'g'\nname = '__ray_invocation_decorator__'\n"
        "os.environ['RAY_get_check_signal_interval_milliseconds'] = '100'\n"
        "documented = ('RAY_ADDRESS', 'RAY_AUTH_MODE', 'RAY_MAGICS_WIDGETS', '__ray_magics_original__')\n"
        "self._own = 1\n"
    )
    assert private_uses(module) == [
        "import ray.util.client", "from ray._private import ...", "worker._global_node", "f.__ray_concurrency_group__",
        "'__ray_invocation_decorator__'", "'RAY_get_check_signal_interval_milliseconds'",
    ]


# Where the settings in force may be read: the Python API's defaults, and how views show. The
# magics hand their settings down to all else (`settings.hand_down`, constructors, arguments).
READ_SETTINGS_IN_FORCE = {"settings", "live.api", "live.view"}


def settings_lookups(path: Path) -> list[str]:
    """A module's looks for settings from above: the shell's configurables, or the settings in force."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and node.attr == "configurables":
            found.append(ast.unparse(node))
        elif isinstance(node, ast.Name | ast.alias) and getattr(node, "id", getattr(node, "name", None)) == "in_force":
            found.append("in_force")
    return found


def test_settings_are_handed_down_and_never_looked_up_from_below():
    lookups = {
        module: found for module, path in module_names().items()
        if module not in {"magics", "__init__"} | READ_SETTINGS_IN_FORCE and (found := settings_lookups(path))
    }
    assert lookups == {}
    assert settings_lookups(PACKAGE / "live" / "api.py")  # the check sees what it looks for


def test_the_readme_names_every_module():
    """The README's "How it is built" table names each module, so that it matches the folders."""
    readme = (PACKAGE.parent / "README.md").read_text()
    table = readme.split("## How it is built", 1)[1].split("\n## ", 1)[0]
    modules = [path.name for path in PACKAGE.rglob("*.py") if path.name != "__init__.py"]
    unnamed = [name for name in modules if f"`{name}`" not in table]
    assert unnamed == []
