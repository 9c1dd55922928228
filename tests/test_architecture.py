"""The shape of the code, where ruff and import-linter do not look (issue 16).

- Every module of ``core/`` is either an engine (listed in the ``engines-no-adapters`` import
  contract of pyproject.toml, so it may not import a store, the demo data or the ledger) or one
  of the few :data:`NOT_ENGINES`: a new module has to be put on one side.
- No module of ``core/`` is longer than about 600 lines, no function longer than a screen.
- The tui builds no event: no ``NewEvent``, no ``ledger.append`` (screens send commands through
  ``Ledger.execute``), no ``__import__``/``import_module`` (which the import contracts cannot see).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .tooling import ROOT, pyproject, skip_unless_configured

skip_unless_configured()

CORE, TUI = ROOT / "core", ROOT / "tui"
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 60  # "a function a reader must scroll through": a screen, its docstring included

#: core's modules that are not engines: the store adapters and the errors they raise, the ledger
#: (the one command path) and its checkpoint file (wardindex), the demo data.
NOT_ENGINES = {
    "labfeed",
    "store",
    "auditsql",
    "pgstore",
    "pgnotify",
    "store_errors",
    "service",
    "wardindex",
    "demo",
    "demo_users",
}


def _contract(contract_id: str) -> dict[str, Any]:
    contracts = pyproject()["tool"]["importlinter"]["contracts"]
    return next(c for c in contracts if c.get("id") == contract_id)


def _sources(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*.py")):
        if "__pycache__" not in path.parts:
            yield path


def _core_modules() -> set[str]:
    """The names of core's top-level modules and packages."""
    modules = {p.stem for p in CORE.glob("*.py") if p.stem != "__init__"}
    return modules | {p.parent.name for p in CORE.glob("*/__init__.py")}


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_every_core_module_is_an_engine_or_named_as_not_one():
    engines = {m.removeprefix("bedside.core.") for m in _contract("engines-no-adapters")["source_modules"]}
    modules = _core_modules()
    assert not engines & NOT_ENGINES, f"both an engine and not one: {sorted(engines & NOT_ENGINES)}"
    unplaced = sorted(modules - engines - NOT_ENGINES)
    assert not unplaced, (
        f"core modules that are neither engines nor adapters: {unplaced}. An engine goes into the source_modules of the "
        "engines-no-adapters contract (pyproject.toml); an adapter (a store, demo data) into NOT_ENGINES here."
    )
    gone = sorted(NOT_ENGINES - modules)
    assert not gone, f"NOT_ENGINES names modules that are gone: {gone}"


def test_no_core_module_is_longer_than_600_lines():
    long = {_rel(p): n for p in _sources(CORE) if (n := len(p.read_text("utf-8").splitlines())) > MAX_MODULE_LINES}
    assert not long, f"core modules over {MAX_MODULE_LINES} lines (split them by job): {long}"


def test_no_core_function_is_longer_than_a_screen():
    long = []
    for path in _sources(CORE):
        for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{_rel(path)}:{node.lineno} {node.name} ({lines} lines)")
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines (split into readable helpers): {long}"


def _event_building(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        name = getattr(node, "id", None) if isinstance(node, ast.Name) else getattr(node, "attr", None)
        if name == "NewEvent":
            yield node.lineno, "NewEvent"
        elif name == "append" and ast.unparse(node.value).endswith("ledger"):
            yield node.lineno, f"{ast.unparse(node)} (send a command: ledger.execute)"
        elif isinstance(node, ast.Call) and ast.unparse(node.func) in ("__import__", "importlib.import_module", "import_module"):
            yield node.lineno, f"{ast.unparse(node.func)}() (the import contracts cannot see it)"


def test_the_tui_builds_no_events():
    found = [
        f"{_rel(path)}:{line} {what}"
        for path in _sources(TUI)
        for line, what in sorted(_event_building(ast.parse(path.read_text("utf-8"), str(path))))
    ]
    assert not found, f"the tui builds events or imports around the contracts: {found}"
