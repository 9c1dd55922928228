"""Issue 16: one helper for each shared job. The printed record and the FHIR export show times with
core/clock.py's formatters, read fact times with core/facts.py and number reactions with
core/infusion/reactions.py; they keep no copy of their own."""

from __future__ import annotations

import re
from pathlib import Path

CORE = Path(__file__).resolve().parents[3] / "core"
MINE = sorted([*(CORE / "records").glob("*.py"), *(CORE / "fhir").glob("*.py")])


def _code(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def test_no_time_formatting_of_their_own():
    """Only the FHIR instant (UTC, ``...Z``: a wire format, not a shown time) formats a time itself."""
    for path in MINE:
        code = _code(path)
        if path.name == "values.py" and path.parent.name == "fhir":
            start = code.index("def instant(")
            code = code[:start] + code[code.index("\ndef ", start + 1) :]
        assert not re.findall(r"strftime|:%H|%Y-%m-%d", code), f"{path}: format times with bedside.core.clock (fmt_local, ...)"


def test_no_fact_time_or_reaction_numbering_of_their_own():
    for path in MINE:
        code = _code(path)
        assert "def _fact_time" not in code and "def fact_time" not in code, path
        assert not re.search(r"enumerate\([^)]*REACTION_STARTED|REACTION_STARTED[^\n]*sorted", code), path
        if path.name == "audit.py":  # the audit's table of field labels names "at" and "given_at"; it reads no fact
            code = code[: code.index("LABELS = {")] + code[code.index("}", code.index("LABELS = {")) :]
        assert '"given_at"' not in code and '"at"' not in code, f"{path}: read fact times with bedside.core.facts"
