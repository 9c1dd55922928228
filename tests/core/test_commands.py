"""The command path itself: every command registered, documented and decided in one place."""

from __future__ import annotations

import re
from pathlib import Path

import attrs

from bedside.core import all_commands  # noqa: F401  (registers every command)
from bedside.core.commands import DECIDERS, Command, command_table
from bedside.core.events import EVENT_TYPES, Payload

README = Path(__file__).parents[2] / "core" / "README.md"


def test_core_readme_has_the_current_command_table():
    text = README.read_text(encoding="utf-8")
    m = re.search(r"<!-- commands:begin -->\n(.*)<!-- commands:end -->", text, re.S)
    assert m, "core/README.md lost its commands markers"
    assert m.group(1) == command_table(), "core/README.md is stale: run: python -m bedside.core.commands --readme"


def test_every_command_is_frozen_documented_and_emits_registered_events():
    assert DECIDERS, "no command registered"
    for cmd in DECIDERS:
        assert issubclass(cmd, Command) and attrs.has(cmd), cmd
        first = (cmd.__doc__ or "").strip().splitlines()[0]
        assert ":" in first, f"{cmd.__name__}: the docstring's first line says 'Screen, key: what it does'"
        assert cmd.emits, f"{cmd.__name__} emits no event class"
        for e in cmd.emits:
            assert issubclass(e, Payload) and EVENT_TYPES[e.KIND] is e, (cmd.__name__, e)


def test_every_event_class_is_a_frozen_attrs_class():
    for kind, cls in EVENT_TYPES.items():
        assert attrs.has(cls) and kind == cls.KIND
        assert cls.__setattr__ is not object.__setattr__, f"{cls.__name__} is not frozen"
