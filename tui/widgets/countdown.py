"""A live line derived from stored timestamps and the clock: redrawn only when its text changes,
and without a layout pass unless its number of lines changed (so a ticking timer repaints its own
line, not the screen)."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.widget import Widget


def span(seconds: float) -> str:
    """A duration in words for a countdown: hours and minutes, with seconds under 10 minutes."""
    s = int(seconds)
    sign = "-" if s < 0 else ""
    s = abs(s)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    if h:
        return f"{sign}{h} h {m:02d} min"
    if m >= 10:
        return f"{sign}{m} min"
    return f"{sign}{m}:{sec:02d}"


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
        if isinstance(value, str):
            value = Text(value)
        if value == self.text and self._lines >= 0:
            return
        lines = value.plain.count("\n") + 1
        self.text = value
        self.refresh(layout=lines != self._lines)
        self._lines = lines
