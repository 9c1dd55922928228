"""A live line derived from stored timestamps and the clock: redrawn only when its text changes,
and then only the cells that changed (so a ticking timer sends a digit or two, not a line or the
screen)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from rich.cells import cell_len
from rich.text import Text
from textual.geometry import Region
from textual.widget import Widget

from bedside.core.clock import fmt_minutes
from bedside.tui.text import shown


def span(seconds: float) -> str:
    """A duration in words for a countdown: hours and minutes, with seconds under 10 minutes."""
    s = int(seconds)
    sign = "-" if s < 0 else ""
    s = abs(s)
    if s >= 600:
        return sign + fmt_minutes(timedelta(seconds=s))  # the one duration formatter (core/clock.py)
    m, sec = divmod(s, 60)
    return f"{sign}{m}:{sec:02d}"


def changed_cells(old: Text, new: Text, width: int) -> list[Region] | None:
    """The regions (in the widget's content, one per changed line) where ``new`` differs from
    ``old``; ``None`` when only a whole repaint is safe: other styles or line count, a line whose
    length changed, wide characters, or a line that would wrap at ``width``."""
    if old.spans != new.spans or old.style != new.style:
        return None
    before, after = old.plain.split("\n"), new.plain.split("\n")
    if len(before) != len(after):
        return None
    if any(cell_len(line) > width for line in before + after):
        return None  # a wrapped line shifts the rows below it: only a whole repaint is right
    regions = []
    for y, (a, b) in enumerate(zip(before, after, strict=True)):
        if a == b:
            continue
        n = len(b)
        if len(a) != n or n > width or cell_len(a) != len(a) or cell_len(b) != n:
            return None
        # One region from the first to the last changed cell: Textual sends a changed line from
        # its widget's left edge to the region's end, so more regions would resend that start.
        start, end = 0, n
        while a[start] == b[start]:
            start += 1
        while a[end - 1] == b[end - 1]:
            end -= 1
        regions.append(Region(start, y, end - start, 1))
    return regions


class LiveText(Widget):
    """Text computed by ``make()`` at each :meth:`tick` (once a second by default, or by its screen
    with ``interval=None``); a hidden screen costs nothing."""

    DEFAULT_CSS = "LiveText { height: auto; }"

    def __init__(self, make: Callable[[], Text | str], interval: float | None = 1.0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.make = make
        self.interval = interval
        self.text = Text("")
        self._lines = -1

    def render(self) -> Text:
        return self.text

    def on_mount(self) -> None:
        self.tick()
        if self.interval is not None:
            self.set_interval(self.interval, self.tick)

    def tick(self) -> None:
        if not self.is_attached or not self.screen.is_current:
            return
        value = self.make()
        value = shown(Text(value) if isinstance(value, str) else value)  # never a control sequence
        if value == self.text and self._lines >= 0:
            return
        lines = value.plain.count("\n") + 1
        regions = changed_cells(self.text, value, self.size.width) if lines == self._lines else None
        self.text = value
        if regions is None:
            self.refresh(layout=lines != self._lines)
        else:
            self.refresh(*regions)
        self._lines = lines
