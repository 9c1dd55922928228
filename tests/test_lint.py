"""Lint, format and import contracts, run by the test suite (issue 16).

ruff (lint and format) and import-linter (``lint-imports``) read their configuration from
pyproject.toml (``[tool.ruff]``, ``[tool.importlinter]``). Each test runs one tool from the venv
over core/, tui/ and tests/ and fails with the tool's own output. To fix what they find:
``ruff check --fix core tui tests``, ``ruff format core tui tests``; a broken import contract
names the importing lines (the contracts: core never imports textual, rich or the tui; the tui
never imports the event classes or a store, but for its composition roots; the engines never
import a store adapter, the demo data or the ledger).
"""

from __future__ import annotations

import subprocess

import pytest

from .tooling import LINTED, ROOT, skip_unless_configured, tool

skip_unless_configured()


def _run(*args: str) -> None:
    proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    if proc.returncode != 0:
        pytest.fail(f"{' '.join(args)} failed (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}", pytrace=False)


def test_ruff_check():
    _run(tool("ruff"), "check", "--no-cache", "--output-format", "concise", *LINTED)


def test_ruff_format():
    _run(tool("ruff"), "format", "--check", "--no-cache", *LINTED)


def test_import_contracts():
    _run(tool("lint-imports"), "--no-cache")
