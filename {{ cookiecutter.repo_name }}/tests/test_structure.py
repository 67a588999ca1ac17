"""The package's structure: no import cycles, heavy libraries only inside functions."""

import ast
from pathlib import Path

import {{ cookiecutter.python_package }}

PACKAGE = Path({{ cookiecutter.python_package }}.__file__).parent
NAME = PACKAGE.name


def module_name(path: Path) -> str:
    parts = [NAME, *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The package's modules that ``path`` imports, at any depth (function-level ones too)."""
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        # A module's own parent packages are imported before it: not an edge of a cycle.
        found |= {t for t in targets if t in modules and not f"{here}.".startswith(f"{t}.")}
    return found


def import_graph() -> dict[str, set[str]]:
    files = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    return {name: imports_of(path, set(files)) for name, path in files.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_the_import_walk_sees_the_package() -> None:
    graph = import_graph()
    assert f"{NAME}.pipelines.release.model_card" in graph
    assert f"{NAME}.groups" in graph[f"{NAME}.pipelines.monitoring.assessment"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle_in_the_package() -> None:
    assert cycles(import_graph()) == []


def test_pipelines_import_each_other_only_through_shared_modules() -> None:
    """A stage uses another stage's pipeline (inference reuses ingestion and validation) or its
    public report; node code shared by stages lives in the package's own modules."""
    allowed = {
        ("inference", "ingestion"),
        ("inference", "validation"),
        ("release", "fairness_review"),  # the model card shows the fairness report's tables
        ("release", "explanation"),  # ... and the explanation's sections
        ("labels", "monitoring"),  # late labels complete a monitoring run: same decay, same alert
        ("labels", "ingestion"),  # labels are read as ingestion reads the target
    }
    prefix = f"{NAME}.pipelines."
    crossings = {
        (source.removeprefix(prefix).split(".")[0], target.removeprefix(prefix).split(".")[0])
        for source, targets in import_graph().items()
        if source.startswith(prefix)
        for target in targets
        if target.startswith(prefix)
    }
    crossings = {(a, b) for a, b in crossings if a != b}
    assert crossings <= allowed, crossings - allowed
