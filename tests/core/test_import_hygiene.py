"""The core imports no Textual or Rich; `bedside --help` and verify-log never import Textual."""

from __future__ import annotations

import subprocess
import sys

import pytest

CORE_MODULES = [
    "auth",
    "pgstore",
    "calc",
    "calendar",
    "fhir",
    "records",
    "scan",
    "clock",
    "demo",
    "events",
    "infusion",
    "intake",
    "predose",
    "preparation",
    "rules",
    "service",
    "site",
    "stability",
    "store",
    "warnings",
]


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print('\\n'.join(sys.modules))"], capture_output=True, text=True, check=True
    )
    return set(out.stdout.split())


def test_core_imports_no_textual_or_rich():
    mods = _modules_after("".join(f"import bedside.core.{m}\n" for m in CORE_MODULES))
    assert not {m for m in mods if m.split(".")[0] in ("textual", "rich")}


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["verify-log", "--db", "/nonexistent/x.db"],
        ["calc", "--height-cm", "170", "--weight-kg", "70", "--cycle", "1", "--day", "1", "--json"],
    ],
)
def test_cli_without_the_app_does_not_import_textual(argv):
    code = f"import sys\nfrom bedside.tui.cli import main\ntry:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
    mods = _modules_after(code)
    assert "textual" not in mods and "textual.app" not in mods


def test_no_generic_top_level_packages_installed():
    out = subprocess.run(
        [sys.executable, "-c", "import importlib.util as u; print(u.find_spec('core'), u.find_spec('tui'))"],
        capture_output=True,
        text=True,
        cwd="/",
        check=True,
    )
    assert out.stdout.strip() == "None None"
