"""Display helpers. User-typed text always goes through :func:`literal` (never Rich markup)."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

from bedside.core.clock import fmt_local


def literal(value: object, style: str = "") -> Text:
    return Text(str(value), style=style, no_wrap=False)


def when(at: datetime, seconds: bool = False) -> str:
    return fmt_local(at, seconds=seconds)
