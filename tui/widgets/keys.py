"""The footer of every Bedside screen."""

from __future__ import annotations

from textual.widgets import Footer

#: From this many columns the footer also shows the command palette's key; below, the screen's own
#: keys have the room (80 columns held them and no more). Help (F1) always names ctrl+p.
PALETTE_KEY_FROM = 100


class Keys(Footer):
    """A compact footer; the palette's ``^p`` only where the terminal is wide enough for it."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("compact", True)
        super().__init__(**kwargs)

    def on_mount(self) -> None:
        self._fit()

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        self.show_command_palette = self.app.size.width >= PALETTE_KEY_FROM
