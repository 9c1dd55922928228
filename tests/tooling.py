"""What tests/test_lint.py and tests/test_architecture.py share: the repository, its pyproject.toml
and the tools installed beside the running Python (the ``test`` extra installs them)."""

from __future__ import annotations

import os
import shutil
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: What the linters check (bench/ follows the same rules when asked, but is not held to them here).
LINTED = ("core", "tui", "tests")


def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))


def configured() -> bool:
    """Whether pyproject.toml holds the tooling configuration (``[tool.ruff]`` and ``[tool.importlinter]``)."""
    tool = pyproject().get("tool", {})
    return "ruff" in tool and "importlinter" in tool


def skip_unless_configured() -> None:
    """Skip the calling test module until the tooling configuration is in pyproject.toml."""
    if not configured():
        pytest.skip(
            "pyproject.toml has no [tool.ruff] and [tool.importlinter] sections yet (issue 16): nothing to check against",
            allow_module_level=True,
        )


def tool(name: str) -> str:
    """The path of a command-line tool installed beside this Python (the venv), else on PATH; skip
    when it is not installed (fail under CI=true, where the linters must run)."""
    here = Path(sys.executable).parent / name
    if here.exists():
        return str(here)
    found = shutil.which(name)
    if found:
        return found
    reason = f"{name} is not installed (pip install -e '.[test]')"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the linters: {reason}", pytrace=False)
    pytest.skip(reason)
    raise AssertionError("unreachable")
