"""The modules of `qa` import one way: no cycle, counting imports inside functions too (an import
moved into a function to dodge a cycle is still one); between the stages' packages, only downwards
(`LAYERS`); into the answer layer, only through the names `qa.answer` exports. And `import qa` stays
instant, its packages light."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "qa"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The qa modules a file imports, anywhere in it (`from qa.x import y` counts qa.x.y when that is a module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        else:
            continue
        found.update(name for name in names if name in modules)
    return found


def import_graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    modules = set(files)
    graph = {name: imports_of(path, modules) - {name} for name, path in files.items()}
    # A package's own __init__ re-exporting its modules is not a cycle with them.
    return {name: {d for d in deps if not name.startswith(d + ".")} for name, deps in graph.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle as a path of modules (first == last), or None:
    `find_cycle({"a": {"b"}, "b": {"a"}})` -> `["a", "b", "a"]`."""
    state: dict[str, int] = {}  # 1 on the path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                return path[path.index(dep):] + [dep]
            if dep not in state and (cycle := visit(dep)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_find_cycle_finds_one_and_only_one() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_the_graph_sees_imports_inside_functions(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text("import os\n\ndef f():\n    from qa.index import reader\n    import qa.errors\n")
    assert imports_of(source, {"qa.index", "qa.index.reader", "qa.errors"}) == {
        "qa.index", "qa.index.reader", "qa.errors"}


# Imports made inside a function to dodge a cycle, still to be removed: each closes a cycle today.
# Delete an entry when its cycle goes (the second test below fails until then); add none.
DODGED: set[tuple[str, str]] = set()


def test_qa_has_no_import_cycle() -> None:
    graph = import_graph()
    assert "qa.index.reader" in graph and "qa.search.retrieve" in graph  # the walk found the package
    for module, dep in DODGED:
        graph[module].discard(dep)
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_each_dodged_import_still_closes_a_cycle() -> None:
    graph = import_graph()
    for module, dep in DODGED:
        assert dep in graph[module], f"{module} no longer imports {dep}: delete it from DODGED"
        assert _reaches(graph, dep, module), f"{module} -> {dep} closes no cycle now: delete it from DODGED"


def _reaches(graph: dict[str, set[str]], start: str, goal: str) -> bool:
    """Whether `goal` can be imported, directly or not, from `start`."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            todo.extend(graph.get(node, ()))
    return False


def test_faiss_is_imported_only_inside_the_index_package() -> None:
    for path in PACKAGE.rglob("*.py"):
        if "index" in path.relative_to(PACKAGE).parts[:1]:
            continue
        names = {alias.name for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                 if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}
        modules = {node.module for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                   if isinstance(node, ast.ImportFrom)}
        assert "faiss" not in names | modules, path


# The stages, bottom to top: a module imports its own package or unit, and the layers below its own,
# never one above it nor another unit of its own layer (except among the shared modules, which
# import each other freely). A unit is a package or a top-level module; each package's docstring says
# what it may import. A new module of `qa` takes its place here (the first test below fails until then).
LAYERS: list[tuple[str, set[str]]] = [
    ("shared", {"qa", "qa.types", "qa.errors", "qa.commands", "qa.config", "qa.dates", "qa.text", "qa.tuning",
                "qa.cache", "qa.aliases"}),
    ("before the index", {"qa.ingest", "qa.chunk", "qa.embed"}),
    ("index", {"qa.index"}),
    ("index runtime", {"qa.runtime"}),
    ("build journal", {"qa.journal", "qa.spool"}),
    ("reranker", {"qa.rerank"}),
    ("search", {"qa.search"}),
    ("answer", {"qa.answer"}),
    ("assembly", {"qa.pipeline", "qa.build"}),
    ("front ends", {"qa.page", "qa.eval"}),
    ("command line", {"qa.cli"}),
]


def unit_of(module: str) -> tuple[int, str]:
    """(layer number, unit) of a module: `unit_of("qa.answer.span")` -> `(6, "qa.answer")`."""
    for number, (_, units) in enumerate(LAYERS):
        for unit in units:
            if module == unit or (unit != "qa" and module.startswith(unit + ".")):
                return number, unit
    raise KeyError(f"{module} is in no layer of LAYERS: add it where it belongs")


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Every import that breaks the layering, as "module -> module"."""
    wrong = []
    for module, deps in graph.items():
        layer, unit = unit_of(module)
        for dep in deps:
            dep_layer, dep_unit = unit_of(dep)
            if dep_unit == unit or dep_layer < layer or (dep_layer == layer == 0):
                continue
            wrong.append(f"{module} -> {dep}")
    return sorted(wrong)


def test_every_module_has_a_layer() -> None:
    for module in import_graph():
        unit_of(module)


def test_the_stages_import_only_downwards() -> None:
    assert upward_imports(import_graph()) == []


def test_the_layering_check_catches_an_upward_import() -> None:
    graph = {"qa.search.retrieve": {"qa.answer"}, "qa.answer": set(), "qa.index.reader": {"qa.embed.models"},
             "qa.embed.models": set(), "qa.chunk": {"qa.embed.models"}, "qa.errors": {"qa.commands"},
             "qa.commands": set()}
    assert upward_imports(graph) == ["qa.chunk -> qa.embed.models", "qa.search.retrieve -> qa.answer"]


def answer_internals_imported_from_outside(graph: dict[str, set[str]]) -> list[str]:
    return sorted(f"{module} -> {dep}" for module, deps in graph.items() if not module.startswith("qa.answer")
                  for dep in deps if dep.startswith("qa.answer."))


def test_only_the_answer_package_imports_its_modules() -> None:
    """Outside `qa/answer/`, `from qa.answer import ExtractiveAnswerer`, never `from qa.answer.extractive …`."""
    assert answer_internals_imported_from_outside(import_graph()) == []
    assert answer_internals_imported_from_outside({"qa.pipeline": {"qa.answer.state"}, "qa.answer.state": set()}) == [
        "qa.pipeline -> qa.answer.state"]


def test_what_qa_answer_exports_is_there() -> None:
    import qa.answer

    assert sorted(qa.answer.__all__) == sorted(set(qa.answer.__all__))
    assert all(hasattr(qa.answer, name) for name in qa.answer.__all__)


def test_the_packages_load_nothing_heavy() -> None:
    code = ("import sys, qa.answer, qa.embed, qa.search, qa.page, qa.index, qa.rerank, qa.pipeline, qa.cli; "
            "heavy = {'faiss', 'torch', 'gradio', 'sentence_transformers', 'transformers', 'onnxruntime', 'ray'}; "
            "print(sorted(heavy & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


def test_import_qa_loads_nothing_heavy() -> None:
    code = ("import sys, qa; heavy = {'numpy', 'faiss', 'torch', 'gradio', 'sentence_transformers'}; "
            "print(sorted(heavy & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"
