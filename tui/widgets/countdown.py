"""A live line derived from stored timestamps and the clock: redrawn only when its text changes."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static


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


class LiveText(Static):
    """Text computed by ``make()`` once a second while visible; a refresh only when it changes."""

    text: reactive[Text | str] = reactive("", layout=False)

    def __init__(self, make: Callable[[], Text | str], interval: float = 1.0, **kwargs) -> None:
        super().__init__("", **kwargs)
        self.make = make
        self.interval = interval

    def on_mount(self) -> None:
        self.tick()
        self._timer = self.set_interval(self.interval, self.tick)

    def tick(self) -> None:
        if not self.screen.is_current:
            return  # a hidden screen costs nothing
        value = self.make()
        if value != self.text:
            self.text = value

    def watch_text(self, value: Text | str) -> None:
        self.update(value)
