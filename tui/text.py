"""Display helpers. User-typed text always goes through :func:`literal` (never Rich markup)."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

from bedside.core.clock import fmt_local


def literal(value: object, style: str = "") -> Text:
    return Text(str(value), style=style, no_wrap=False)


def when(at: datetime, seconds: bool = False) -> str:
    return fmt_local(at, seconds=seconds)


def label_value(pairs: list[tuple[str, object]], sep: str = "  ") -> Text:
    out = Text()
    for i, (label, value) in enumerate(pairs):
        if i:
            out.append(sep)
        out.append(f"{label} ", style="bold")
        out.append(str(value))
    return out
