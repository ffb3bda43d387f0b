"""The direction of imports (docs/architecture.md): read from the source, without running it.

- No import cycle between the project's modules (an import at the top of a module, or one
  a package's `__init__` makes).
- No upward import: an app imports only apps of lower layers, and apps of one layer never
  import each other.
- No import inside a function, except where Django needs it (an AppConfig's `ready` and
  its hooks, which run once the app registry is ready) or where it guards a cycle the
  module-level graph would otherwise have.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Lowest first. What each layer is for: docs/architecture.md.
LAYERS = (
    ("fieldsync",),
    ("cases",),
    ("outreach", "referrals", "empowerment", "transfers"),
    ("casework",),
    ("reports",),
    ("interop", "offline"),
    ("web",),
    ("basodara",),
)
APPS = tuple(app for layer in LAYERS for app in layer)
LAYER_OF = {app: n for n, layer in enumerate(LAYERS) for app in layer}


def _modules():
    """Dotted name → path, for every module of the project's apps (migrations aside: they
    name the models of their time, not the code's)."""
    found = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _owner(name):
    """The project module an imported name lives in (the longest known prefix), or None."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _targets(module, node):
    """The project modules an import statement in `module` loads, with the packages above
    them (importing a.b.c runs a/__init__ and a/b/__init__ first)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        package = module.split(".")
        if MODULES[module].name != "__init__.py":
            package = package[:-1]
        if node.level:
            base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else []))
        else:
            base = node.module
        names = [f"{base}.{alias.name}" for alias in node.names] or [base]
    found = set()
    for name in names:
        owner = _owner(name)
        while owner:
            if owner != module and not module.startswith(owner + "."):
                found.add(owner)
            owner = owner.rpartition(".")[0] if "." in owner else None
    return found


def _walk(module, node, function, graph, inner):
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
            _walk(module, child, function or child, graph, inner)
        elif isinstance(child, (ast.Import, ast.ImportFrom)):
            if function is None:
                graph[module] |= _targets(module, child)
            else:
                inner.append((module, child, function))
        else:
            _walk(module, child, function, graph, inner)


def _imports():
    """(module-level graph, [(module, import node, function) for imports inside functions])."""
    graph, inner = {}, []
    for module, path in MODULES.items():
        graph[module] = set()
        _walk(module, ast.parse(path.read_text(), str(path)), None, graph, inner)
    return graph, inner


GRAPH, INNER = _imports()


def _reach(start):
    seen, todo = set(), [start]
    while todo:
        for target in GRAPH.get(todo.pop(), ()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def test_every_app_has_its_layer():
    apps = {path.parent.name for path in ROOT.glob("*/apps.py")}
    assert apps == set(APPS) - {"basodara"}, "an app missing from LAYERS (or gone): " + str(apps ^ set(APPS))


def test_the_graph_is_read():
    # The walk sees the imports it is meant to judge (a broken walk would pass everything).
    assert {"cases.access", "cases.models"} <= GRAPH["referrals.access"]
    assert "cases.models" in _reach("web.views.clients")
    assert len(MODULES) > 100


def test_no_import_cycle():
    cycles = sorted(module for module in GRAPH if module in _reach(module))
    assert not cycles, f"modules that import themselves through others: {cycles}"


def test_no_upward_import():
    wrong = []
    for module, targets in GRAPH.items():
        inside = [(module, target) for _n, target in _inner_targets(module)]
        for source, target in [(module, t) for t in targets] + inside:
            low, high = source.split(".")[0], target.split(".")[0]
            if low != high and LAYER_OF[high] >= LAYER_OF[low]:
                wrong.append(f"{source} → {target}")
    assert not wrong, "imports against the layers (docs/architecture.md):\n" + "\n".join(sorted(wrong))


def _inner_targets(module):
    for source, node, function in INNER:
        if source == module:
            for target in _targets(module, node):
                yield function, target


def test_imports_inside_functions_only_where_needed():
    wrong = []
    for module, node, function in INNER:
        if module.endswith(".apps"):
            continue  # AppConfig.ready and its hooks: the app registry is ready only then
        targets = _targets(module, node)
        if targets and all(module in _reach(target) for target in targets):
            continue  # guards a cycle
        wrong.append(f"{module}:{node.lineno} in {function.name}(): {ast.unparse(node)}")
    assert not wrong, "imports inside functions that guard no cycle:\n" + "\n".join(wrong)


def test_one_id_pattern_and_one_base_viewset():
    """Ids are read by one pattern (cases/api/base.py: its `ID_PATTERN`, the `<id:…>` URL
    converter and the viewsets' lookup), and every viewset stands on the base viewsets there."""
    base = "cases.api.base"
    wrong = []
    for module, path in MODULES.items():
        if module == base:
            continue
        text = path.read_text()
        if "[0-9]{1,18}" in text or "lookup_value_regex" in text:
            wrong.append(f"{module}: its own id pattern")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ClassDef):
                names = {ast.unparse(b).rpartition(".")[2] for b in node.bases}
                if names & {"GenericViewSet", "ModelViewSet", "ReadOnlyModelViewSet", "ViewSet"}:
                    wrong.append(f"{module}.{node.name}: not on cases.api.base's viewsets")
    assert not wrong, "\n".join(wrong)
