"""`%%actor` cells: which classes a cell defines, running it, converting them."""

import ast

from ..errors import InputError, one_line
from ..session.ray_import import import_ray
from .actor_class import actor

# Statements whose bodies run at module level when the cell runs.
_MODULE_LEVEL_BLOCKS = (ast.If, ast.Try, getattr(ast, "TryStar", ast.Try), ast.With, ast.For, ast.While)


def parse_cell(shell, cell: str) -> tuple[ast.Module, str]:
    """The cell's syntax tree and the name its tracebacks show (`Cell In[n]`)."""
    code = shell.transform_cell(cell)
    filename = shell.compile.cache(code, shell.execution_count)
    return shell.compile.ast_parse(code, filename=filename), filename


def defined_class_names(tree: ast.Module) -> list[str]:
    """Names bound by the module-level `class` statements of a cell, in order.

    Classes inside functions or other classes are not the cell's; imported or merely
    referenced classes are not defined by it.
    """
    names = []
    pending = list(tree.body)
    while pending:
        node = pending.pop(0)
        if isinstance(node, ast.ClassDef):
            if node.name not in names:
                names.append(node.name)
        elif isinstance(node, _MODULE_LEVEL_BLOCKS):
            pending[:0] = _child_statements(node)
    return names


def _child_statements(node):
    children = [*node.body, *getattr(node, "orelse", []), *getattr(node, "finalbody", [])]
    for handler in getattr(node, "handlers", []):
        children.extend(handler.body)
    return children


def run_cell_tree(shell, tree: ast.Module, filename: str) -> None:
    """Run a parsed cell in the user namespace as a cell runs; its exceptions propagate."""
    __tracebackhide__ = True  # noqa: F841 - IPython hides this frame from tracebacks
    exec(shell.compile(tree, filename, "exec"), shell.user_ns)  # noqa: S102


def make_cell_actors(shell, cell, listed, options, track, ensure_ray) -> dict:
    """Run an `%%actor` cell, then turn the classes it defines into Ray actor classes.

    `listed` restricts the conversion to those class names. Bad input raises `InputError`
    before the cell runs where it can be seen, and otherwise restores the
    namespace, so that nothing of the cell is kept, as when Ray cannot be started. A cell that
    raises converts nothing and costs nothing: Ray is started (`ensure_ray`) only once it ran.
    Returns the actor classes made, by name (none for a cell that is not valid Python).
    """
    __tracebackhide__ = True  # noqa: F841 - IPython hides this frame from tracebacks
    try:
        tree, filename = parse_cell(shell, cell)
    except SyntaxError:
        shell.showsyntaxerror()
        return {}
    chosen = _choose(defined_class_names(tree), listed)
    if "name" in options and len(chosen) > 1:
        raise InputError(
            f"--name names one actor but {len(chosen)} classes would get it "
            f"({', '.join(chosen)}); list the one class to name"
        )
    _check_options(options)
    before = dict(shell.user_ns)
    run_cell_tree(shell, tree, filename)
    try:
        ensure_ray()
        made = {name: _convert(shell.user_ns, before, name, options, track) for name in chosen}
    except BaseException:  # a refused class, a Ray that cannot start, Ctrl-C while it starts
        shell.user_ns.clear()
        shell.user_ns.update(before)
        raise
    shell.user_ns.update(made)
    return made


def _choose(defined, listed):
    if not defined:
        raise InputError("the cell defines no class to turn into an actor")
    missing = [name for name in listed if name not in defined]
    if missing:
        raise InputError(
            f"{', '.join(missing)} is not defined by this cell "
            f"(it defines {', '.join(defined)})"
        )
    return list(dict.fromkeys(listed)) or defined


def _check_options(options):
    """Let Ray judge the options on a probe class, before the cell runs."""
    if options.get("get_if_exists") and "name" not in options:
        raise InputError("--get-if-exists needs --name")
    if not options:
        return
    ray = import_ray()
    try:
        ray.remote(**options)(type("OptionsProbe", (), {}))
    except (ValueError, TypeError) as error:
        raise InputError(one_line(error)) from None


def _convert(namespace, before, name, options, track):
    cls = namespace.get(name)
    if not isinstance(cls, type) or cls is before.get(name):
        raise InputError(f"the cell did not define class {name} when it ran")
    try:
        return actor(cls, track=track, **options)
    except Exception as error:  # noqa: BLE001 - whatever Ray refuses becomes one line
        raise InputError(f"{name}: {one_line(error)}") from None


def confirmation(name, options, track) -> str:
    """The one-line confirmation `%%actor` prints for a class."""
    parts = [f"{key}={value!r}" for key, value in options.items()]
    parts.append("tracked" if track else "untracked")
    return f"{name} → Ray actor ({', '.join(parts)})"
