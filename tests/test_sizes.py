"""Sizes a reader can hold in their head (issue 19): no function over 60 lines in core/, ui/ or pages/
(the Trainer's benchmarked batch loop excepted), no page with more than 80 lines of top-level statements.

A function's length runs from its `def` line to its last line, docstring included; nested functions
count within their parent and on their own. Top-level statements of a page are the lines of its module
body outside function and class definitions, imports and the docstring excepted.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_FUNCTION_LINES = 60
MAX_PAGE_LINES = 80
EXEMPT = {("core/training/trainer.py", "Trainer.__iter__")}  # the batch loop: bench/bench_training.py times it


def long_functions(root: Path) -> list[str]:
    found = []
    for folder in ("core", "ui", "pages"):
        for path in sorted((root / folder).rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node, qualname in _functions(tree):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES and (relative, qualname) not in EXEMPT:
                    found.append(f"{relative}:{node.lineno} {qualname} is {lines} lines")
    return found


def _functions(tree: ast.AST, prefix: str = "") -> list[tuple[ast.AST, str]]:
    out: list[tuple[ast.AST, str]] = []
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out.append((node, prefix + node.name))
            out += _functions(node, prefix + node.name + ".")
        elif isinstance(node, ast.ClassDef):
            out += _functions(node, prefix + node.name + ".")
        else:
            out += _functions(node, prefix)
    return out


def page_statement_lines(path: Path) -> int:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    body = list(tree.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    skip = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)
    return sum((n.end_lineno or n.lineno) - n.lineno + 1 for n in body if not isinstance(n, skip))


def test_no_function_is_longer_than_sixty_lines() -> None:
    assert long_functions(ROOT) == []


def test_no_page_has_more_than_eighty_lines_of_top_level_statements() -> None:
    sizes = {p.name: page_statement_lines(p) for p in sorted((ROOT / "pages").glob("*.py")) if p.name != "__init__.py"}
    assert sizes and all(lines <= MAX_PAGE_LINES for lines in sizes.values()), sizes


def test_the_checks_catch_a_long_function_and_a_long_page(tmp_path: Path) -> None:
    (tmp_path / "core").mkdir()
    (tmp_path / "ui").mkdir()
    (tmp_path / "pages").mkdir()
    body = "\n".join(f"    x{i} = {i}" for i in range(61))
    (tmp_path / "core" / "long.py").write_text(f"class A:\n    def f(self):\n    {body.replace(chr(10), chr(10) + '    ')}\n")
    assert long_functions(tmp_path) == ["core/long.py:2 A.f is 62 lines"]
    page = tmp_path / "pages" / "p.py"
    page.write_text('"""doc"""\nimport os\n' + "\n".join(f"st_{i} = {i}" for i in range(81)) + "\ndef g():\n    pass\n")
    assert page_statement_lines(page) == 81
