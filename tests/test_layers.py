"""The house's import rule, checked on every import FitLab's own code makes (issue 19).

A module imports only from its own package or from packages on rows above its own:

    row 0  core.hyperparameters, core.history, core.jsonsafe, core.wording, core.limits  (standard library only)
    row 1  core.data, core.diagnosis
    row 2  core.training
    row 3  core.experiments, core.logs
    row 4  core.store
    row 5  core.records, core.recording
    row 6  core.tuning, core.export
    row 7  core.workers, core.figures
    row 8  core.compare            (tables and figures of several runs: it draws with core.figures)
    row 9  core.cli
    row 10 core.__main__         (`python -m core`)
    row 11 ui
    row 12 pages, app

Every `import` and `from ... import` counts, at module level, inside functions and under
TYPE_CHECKING alike. Also refused: an import cycle between modules, a name starting with an
underscore taken from another module, and figures that reach for torch, the store, the workers or
the training code (figures only draw what was computed elsewhere).
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROWS: dict[str, int] = {
    "core": 0,  # core/__init__.py itself
    "core.hyperparameters": 0,
    "core.history": 0,
    "core.jsonsafe": 0,
    "core.wording": 0,
    "core.limits": 0,
    "core.dynamics": 0,
    "core.data": 1,
    "core.diagnosis": 1,
    "core.training": 2,
    "core.experiments": 3,
    "core.logs": 3,
    "core.store": 4,
    "core.records": 5,
    "core.recording": 5,
    "core.tuning": 6,
    "core.export": 6,
    "core.workers": 7,
    "core.figures": 7,
    "core.compare": 8,
    "core.cli": 9,
    "core.__main__": 10,
    "ui": 11,
    "pages": 12,
    "app": 12,
}
FIRST_PARTY = ("core", "ui", "pages", "app")
FORBIDDEN = {  # package -> what it must never import (a prefix), and why
    "core.figures": (("torch", "core.store", "core.workers", "core.training"), "figures only draw"),
    "core": (("streamlit", "ui", "pages"), "core has no Streamlit in it"),
}


@dataclass(frozen=True)
class Edge:
    source: str  # the importing module
    target: str  # the imported module
    names: tuple[str, ...]  # names taken with `from target import ...`
    line: int


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files(root: Path) -> Iterator[Path]:
    for top in FIRST_PARTY:
        if (root / f"{top}.py").exists():
            yield root / f"{top}.py"
        if (root / top).is_dir():
            yield from sorted((root / top).rglob("*.py"))


def is_module(root: Path, dotted: str) -> bool:
    base = root.joinpath(*dotted.split("."))
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


def edges(root: Path) -> Iterator[Edge]:
    for path in source_files(root):
        source = module_name(root, path)
        package = source if path.name == "__init__.py" else source.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield Edge(source, alias.name, (), node.lineno)
            elif isinstance(node, ast.ImportFrom):
                if node.module == "__future__":
                    continue
                target = node.module or ""
                if node.level:  # relative: resolve against this module's package
                    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    target = ".".join([*base, *([target] if target else [])])
                plain = []
                for alias in node.names:  # `from core.store import runs`: the edge goes to the submodule
                    if is_module(root, f"{target}.{alias.name}"):
                        yield Edge(source, f"{target}.{alias.name}", (), node.lineno)
                    else:
                        plain.append(alias.name)
                if plain:
                    yield Edge(source, target, tuple(plain), node.lineno)


def row_of(module: str) -> tuple[str, int] | None:
    """The package key a module belongs to (longest matching prefix) and its row."""
    for key in sorted(ROWS, key=len, reverse=True):
        if module == key or (key != "core" and module.startswith(key + ".")):  # "core" is core/__init__.py only
            return key, ROWS[key]
    return None


def first_party(module: str) -> bool:
    return module.split(".")[0] in FIRST_PARTY


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def violations(root: Path) -> list[str]:
    problems: list[str] = []
    graph: dict[str, set[str]] = {}
    for edge in edges(root):
        where = f"{edge.source}:{edge.line}"
        for package, (banned, why) in FORBIDDEN.items():
            if edge.source == package or edge.source.startswith(package + "."):
                hit = [b for b in banned if edge.target == b or edge.target.startswith(b + ".")]
                if hit:
                    problems.append(f"{where} imports {edge.target} ({why})")
        if not first_party(edge.target):
            continue
        placed, target = row_of(edge.source), row_of(edge.target)
        if placed is None or target is None:
            problems.append(f"{where}: {edge.source if placed is None else edge.target} has no row in ROWS")
            continue
        if placed[0] != target[0] and target[1] >= placed[1]:
            above = f"row {target[1]} ({target[0]}) is not above row {placed[1]} ({placed[0]})"
            problems.append(f"{where} imports {edge.target}: {above}")
        private = [n for n in edge.names if n.startswith("_")]
        if private and edge.target != edge.source:
            problems.append(f"{where} takes private {', '.join(private)} from {edge.target}")
        if edge.target != edge.source:
            graph.setdefault(edge.source, set()).add(edge.target)
    problems += [f"import cycle: {' -> '.join(c)}" for c in cycles(graph)]
    return problems


def test_the_house_keeps_its_import_rule() -> None:
    assert violations(ROOT) == []


def test_every_module_has_a_row() -> None:
    unplaced = [module_name(ROOT, p) for p in source_files(ROOT) if row_of(module_name(ROOT, p)) is None]
    assert unplaced == []


# --- the checker itself must catch what it is for: a small tree with planted violations


def _plant(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def test_catches_an_upward_import_even_inside_a_function(tmp_path: Path) -> None:
    _plant(
        tmp_path,
        {
            "core/__init__.py": "",
            "core/data/__init__.py": "",
            "core/data/dataset.py": "def load():\n    from core.workers.jobs import run_job\n    return run_job\n",
            "core/workers/__init__.py": "",
            "core/workers/jobs.py": "from core.data.dataset import load\ndef run_job():\n    return load\n",
        },
    )
    found = violations(tmp_path)
    assert any("core.data.dataset:2 imports core.workers.jobs: row 7" in p for p in found), found
    assert any(p.startswith("import cycle: core.data.dataset -> core.workers.jobs") for p in found), found


def test_catches_a_private_name_a_same_row_edge_and_type_checking_imports(tmp_path: Path) -> None:
    _plant(
        tmp_path,
        {
            "core/__init__.py": "",
            "core/training/__init__.py": "",
            "core/training/trainer.py": "def _make_optimizer():\n    return None\n",
            "core/experiments/__init__.py": "",
            "core/experiments/lr_finder.py": "from core.training.trainer import _make_optimizer\n",
            "core/logs/__init__.py": "",
            "core/logs/reader.py": (
                "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from core.experiments.lr_finder import X\n"
            ),
            "core/figures/__init__.py": "",
            "core/figures/charts.py": "import torch\n",
        },
    )
    found = violations(tmp_path)
    assert "core.experiments.lr_finder:1 takes private _make_optimizer from core.training.trainer" in found
    assert any(p.startswith("core.logs.reader:3 imports core.experiments.lr_finder: row 3") for p in found), found
    assert "core.figures.charts:1 imports torch (figures only draw)" in found


def test_catches_a_cycle_through_a_package_init_and_an_unplaced_module(tmp_path: Path) -> None:
    _plant(
        tmp_path,
        {
            "core/__init__.py": "",
            "core/diagnosis/__init__.py": "from core.diagnosis.engine import diagnose\n",
            "core/diagnosis/engine.py": "def diagnose():\n    from core.diagnosis import diagnose as again\n",
            "core/mystery.py": "import core.history\n",
        },
    )
    found = violations(tmp_path)
    assert "import cycle: core.diagnosis -> core.diagnosis.engine" in found
    assert "core.mystery:1: core.mystery has no row in ROWS" in found
