"""The packages depend downwards only (DESIGN.md "Layout"), and an import that hides inside a
function says why it is not at the top of its module."""

import ast
import io
import subprocess
import sys
import tokenize
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CONFIG = tomllib.loads((REPO / "pyproject.toml").read_text())
# The project's own packages, as the import-linter contracts name them.
PACKAGES = CONFIG["tool"]["importlinter"]["root_packages"]
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def test_the_import_contracts_are_kept():
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint_imports), "--no-cache", "--no-logo"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _sources():
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            if "migrations" not in path.relative_to(REPO).parts:
                yield path


def _imports_project_module(node: ast.Import | ast.ImportFrom) -> bool:
    if isinstance(node, ast.ImportFrom):
        return node.level > 0 or (node.module or "").split(".")[0] in PACKAGES
    return any(alias.name.split(".")[0] in PACKAGES for alias in node.names)


def _inner_imports(tree: ast.AST, in_function: bool = False):
    """The imports of project modules that stand anywhere inside a function or method."""
    for child in ast.iter_child_nodes(tree):
        if (
            in_function
            and isinstance(child, ast.Import | ast.ImportFrom)
            and _imports_project_module(child)
        ):
            yield child
        yield from _inner_imports(child, in_function or isinstance(child, FUNCTIONS))


def _comment_lines(source: str) -> set[int]:
    """The numbers of the lines that hold a comment (tokenize: not a `#` inside a string)."""
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return {token.start[0] for token in tokens if token.type == tokenize.COMMENT}


def _explained(node: ast.Import | ast.ImportFrom, lines: list[str], comments: set[int]) -> bool:
    """A comment on the import's own line(s), or the comment line just above it."""
    if comments & set(range(node.lineno, (node.end_lineno or node.lineno) + 1)):
        return True
    above = node.lineno - 1
    while above > 0 and not lines[above - 1].strip():
        above -= 1
    return above > 0 and lines[above - 1].lstrip().startswith("#")


def unexplained_inner_imports() -> list[str]:
    found = []
    for path in _sources():
        source = path.read_text()
        lines = source.splitlines()
        comments = _comment_lines(source)
        for node in _inner_imports(ast.parse(source, filename=str(path))):
            if not _explained(node, lines, comments):
                where = path.relative_to(REPO)
                found.append(f"{where}:{node.lineno}: {lines[node.lineno - 1].strip()}")
    return found


def test_every_import_inside_a_function_says_why():
    """An import inside a function hides a dependency (or a cycle) from the reader: move it to
    the top of the module, or put a comment above it saying why it must stay there."""
    assert unexplained_inner_imports() == []


def test_the_inner_import_check_sees_what_it_should():
    source = (
        "import clusters\n"
        "def f():\n"
        "    from vms import models\n"
        "    # The worker loads it.\n"
        "    from jobs import runner\n"
        "    import access.permissions  # a cycle otherwise\n"
        "    from django.db import models\n"
        "    def g():\n"
        "        from . import sibling\n"
    )
    lines = source.splitlines()
    comments = _comment_lines(source)
    nodes = list(_inner_imports(ast.parse(source)))
    assert [node.lineno for node in nodes] == [3, 5, 6, 9]
    assert [_explained(node, lines, comments) for node in nodes] == [False, True, True, False]
