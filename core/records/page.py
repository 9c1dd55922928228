"""The printed page: literal text, wrapped to 80 columns, with control characters made visible.

Everything a user typed is printed literally: markup such as ``[bold]`` stays as typed, long text
is wrapped, and characters that a terminal or printer would act on (control characters) are shown
as visible escapes (``\\x1b``), never sent raw.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from ..text import printable

WIDTH = 80
TIME_COL = 16  # "YYYY-MM-DD HH:MM"


def clean(value: Any) -> str:
    """User text as printed: literal, on one line, with control characters shown as escapes."""
    text = "" if value is None else str(value)
    for ch in "\t\n\r":
        text = text.replace(ch, " ")
    return printable(text, escapes=True)  # the one sanitiser (core/text.py)


def _cost(ch: str) -> int:
    """Columns a character may take: 2 for wide (East Asian) characters, else 1 (never 0, so
    that a line's length in characters is never more than its budget either)."""
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def width(text: str) -> int:
    return sum(_cost(ch) for ch in text)


def _cut(token: str, budget: int) -> str:
    """The longest start of ``token`` that fits ``budget`` columns."""
    piece = ""
    for ch in token:
        if width(piece) + _cost(ch) > budget:
            break
        piece += ch
    return piece


def wrap(text: str, first: int, rest: int | None = None) -> list[str]:
    """Greedy word wrap: the first line to ``first`` columns, the others to ``rest``. Spaces inside
    a line are kept as typed; a word longer than a line is cut."""
    rest = first if rest is None else rest
    lines: list[str] = []
    cur = ""

    def budget() -> int:
        return first if not lines else rest

    for token in re.split(r"( +)", text):
        if not token:
            continue
        if token.startswith(" "):
            if cur:
                cur += token
            continue
        if width(cur) + width(token) <= budget():
            cur += token
            continue
        if cur.strip(" "):
            lines.append(cur.rstrip(" "))
        cur = ""
        while width(token) > budget():
            piece = _cut(token, budget())
            lines.append(piece)
            token = token[len(piece) :]
        cur = token
    cur = cur.rstrip(" ")
    if cur or not lines:
        lines.append(cur)
    return lines


class Page:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def blank(self) -> None:
        if self.lines and self.lines[-1] != "":
            self.lines.append("")

    def rule(self, ch: str = "-") -> None:
        self.lines.append(ch * WIDTH)

    def text(self, text: str, indent: int = 0, hang: int | None = None, prefix: str = "") -> None:
        """A paragraph: ``prefix`` then ``text`` at ``indent``; continuation lines at ``hang``."""
        hang = indent if hang is None else hang
        text, prefix = clean(text), clean(prefix)  # every printed line: nothing raw reaches a printer
        lines = wrap(text, WIDTH - indent - width(prefix), WIDTH - hang)
        self.lines.append(" " * indent + prefix + lines[0])
        self.lines.extend(" " * hang + line for line in lines[1:])

    def field(self, label: str, text: str, indent: int = 2, label_width: int = 14) -> None:
        prefix = f"{label}:".ljust(label_width - 1) + " "
        self.text(text, indent, indent + label_width, prefix)

    def head(self, label: str, text: str) -> None:
        """A header field: flush left, labels 15 columns wide."""
        self.field(label, text, indent=0, label_width=15)

    def entry(self, when: str, text: str, indent: int = 4) -> None:
        """A time-stamped record line: the time in a column, the text hanging beside it."""
        self.text(text, indent, indent + TIME_COL + 2, when.ljust(TIME_COL) + "  ")

    def render(self) -> str:
        while self.lines and self.lines[-1] == "":
            self.lines.pop()
        for line in self.lines:
            if width(line) > WIDTH:  # pragma: no cover - the wrapper guarantees it
                raise AssertionError(f"line wider than {WIDTH} columns: {line!r}")
        return "\n".join(self.lines) + "\n"
