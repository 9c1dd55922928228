"""Display helpers. User-typed text always goes through :func:`literal` (never Rich markup)."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

from bedside.core.clock import fmt_local
from bedside.core.text import printable


def literal(value: object, style: str = "", multiline: bool = False) -> Text:
    """Stored or typed text as display text: never markup, never a control sequence (the one
    sanitiser, :func:`bedside.core.text.printable`); ``multiline`` keeps newlines."""
    return Text(printable(str(value), multiline=multiline), style=style, no_wrap=False)


def shown(t: Text) -> Text:
    """A Text built from stored data, made safe in place (styles kept; newlines kept, since a
    built Text is multi-line on purpose): the last step before it goes on screen."""
    t.plain = printable(t.plain, multiline=True)  # same length: the spans still fit
    return t


def safe(value: object) -> str:
    """A stored string for a plain-string display (a title bar, a table cell, a Text.append)."""
    return printable(value)


def when(at: datetime, seconds: bool = False) -> str:
    """``at`` in the site's local time, ``YYYY-MM-DD HH:MM[:SS]`` (the one formatter, clock.fmt_local)."""
    return fmt_local(at, seconds=seconds)
