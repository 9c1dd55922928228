"""Commands: the one way a user's decision reaches the record.

A user's action is a :class:`Command` (a frozen attrs class naming what they want, never an
event). Each command class has one pure decision function, registered with :func:`decider`::

    decide(state: State, command, now: datetime, actor: Actor) -> Sequence[Payload] | Refusal

``state`` is the folded record as it stands (the ledger's :class:`State`), ``now`` the only clock,
``actor`` the user as the users log knows them (their role is read there, never passed in by a
caller). The decision returns the typed events to append (the ledger stamps them with the
command's stream, the actor and ``now``), or a :class:`Refusal` that says why, citing rule IDs.

:meth:`bedside.core.service.Ledger.execute` is the only caller: it refreshes, folds, decides and
appends with the stream's expected version; on a lost race it folds again and decides again, so
two terminals can never both record what only one may (core/README.md has the table from each key
to its command, decision and events).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from attrs import frozen

from .events import Event, Payload
from .text import with_article

if TYPE_CHECKING:
    from .auth import SiteKey, User
    from .intake import Patient
    from .site import SiteSettings


@frozen
class Refusal:
    """Why a command may not be carried out, in words for the user, with the rules behind it."""

    message: str
    rules: tuple[str, ...] = ()
    #: The name of an input the command lacks and the user must give (the screen asks for it and
    #: sends the command again): "" when the refusal stands whatever is typed.
    ask: str = ""

    @property
    def text(self) -> str:
        """The message, with its rule IDs unless it already names them."""
        missing = [r for r in self.rules if r not in self.message]
        return self.message + (f" [{', '.join(missing)}]" if missing else "")


class Refused(ValueError):
    """Raised by the ledger when a decision refuses (a ValueError: screens show its text)."""

    def __init__(self, refusal: Refusal):
        super().__init__(refusal.text)
        self.refusal = refusal


@frozen
class Actor:
    """The user a command is carried out for, as the users log knows them now."""

    username: str
    role: str | None  # None: no such user in the users log
    active: bool = True

    @property
    def known(self) -> bool:
        return self.role is not None and self.active


class Command:
    """Base of every command: a frozen attrs class with the stream it changes.

    Subclasses define ``stream`` (an attribute or a property) and ``emits``, the event classes
    their decision may return (checked on every decision, and listed in core/README.md). The first
    line of a command's docstring says where a user gives it: "Screen, key: what it does"."""

    stream: str
    emits: ClassVar[tuple[type[Payload], ...]] = ()


@frozen
class State:
    """What a decision reads: the folded record as it stands when the command is decided.

    Built by the ledger (core/service.py); a stream or a patient is read from the store when a
    decision first asks for it. ``today`` is the site's local date at ``now`` (CONV-TIME-1).
    ``view(pid)`` is the patient's projection (core/projection.py); ``index`` every patient's
    index line (core/wardindex.py), for what concerns all patients (an MRN already taken)."""

    by_stream: Mapping[str, Sequence[Event]]
    users: Mapping[str, User]
    site: SiteSettings
    patients: Mapping[str, Patient]
    today: date
    key: SiteKey
    views: Callable[[str], Any]
    index: Mapping[str, Any]  # pid → core/wardindex.py PatientEntry (every patient, without their events)

    def events(self, stream: str) -> Sequence[Event]:
        return self.by_stream.get(stream, ())

    def roles(self) -> dict[str, str]:
        return {u.username: u.role for u in self.users.values()}

    def patient(self, pid: str) -> Patient:
        return self.patients[pid]

    def view(self, pid: str) -> Any:
        return self.views(pid)


Decision = Sequence[Payload] | Refusal
C = TypeVar("C", bound=Command)
Decide = Callable[[State, Any, datetime, Actor], Decision]

DECIDERS: dict[type, Decide] = {}


def decider(
    command_type: type[C],
) -> Callable[[Callable[[State, C, datetime, Actor], Decision]], Callable[[State, C, datetime, Actor], Decision]]:
    """Register the one decision function of ``command_type``."""

    def register(fn: Callable[[State, C, datetime, Actor], Decision]) -> Callable[[State, C, datetime, Actor], Decision]:
        if command_type in DECIDERS:
            raise ValueError(f"{command_type.__name__} has a decision already")
        DECIDERS[command_type] = fn
        return fn

    return register


def decide(state: State, command: Command, now: datetime, actor: Actor) -> Decision:
    """Decide ``command`` (tests call this directly; the ledger through :meth:`Ledger.execute`)."""
    fn = DECIDERS.get(type(command))
    if fn is None:
        raise TypeError(f"no decision for {type(command).__name__}")
    result = fn(state, command, now, actor)
    if not isinstance(result, Refusal):
        stray = [type(p).__name__ for p in result if type(p) not in type(command).emits]
        if stray:
            raise TypeError(f"{type(command).__name__} may not emit {', '.join(stray)} (add it to its emits)")
    return result


def refuse(message: str, *rules: str) -> Refusal:
    return Refusal(message, tuple(rules))


def require_role(actor: Actor, roles: Sequence[str], what: str, *rules: str) -> Refusal | None:
    """A refusal unless the actor is an active user with one of ``roles``."""
    if not actor.known:
        return refuse(f"{what}: '{actor.username}' is not an active user.", *rules)
    if actor.role not in roles:
        names = roles[0] if len(roles) == 1 else f"{', '.join(roles[:-1])} or {roles[-1]}"
        return refuse(
            f"{what}: only {with_article(names)} may do this (you are signed in as {with_article(actor.role)}).", *rules
        )
    return None


def refusal_from(exc: ValueError, *rules: str) -> Refusal:
    """Wrap an engine check's ValueError (its message already names the field and the rule)."""
    return Refusal(str(exc), tuple(rules))


def refused_unless(fn: Callable[[], Sequence[Payload]], *rules: str) -> Decision:
    """Run ``fn``; an engine check raising ValueError becomes a Refusal with its message."""
    try:
        return list(fn())
    except ValueError as exc:
        return refusal_from(exc, *rules)


def command_table() -> str:
    """The Markdown table of core/README.md: for each command, where a user gives it, its
    decision function and the events it may record (``python -m bedside.core.commands``)."""
    from . import all_commands  # noqa: F401  (imports every job, so every command is registered)

    rows = ["| where (screen, key) | command | decide | events |", "|---|---|---|---|"]
    for t, f in sorted(DECIDERS.items(), key=lambda item: (item[0].__module__, item[0].__name__)):
        where = ((t.__doc__ or "").strip().splitlines() or [""])[0].split(":")[0]
        module = t.__module__.removeprefix("bedside.core.")
        events = ", ".join(f"`{e.KIND}`" for e in t.emits)
        rows.append(
            f"| {where} | `{module}.{t.__name__}` | `{f.__module__.removeprefix('bedside.core.')}.{f.__name__}` | {events} |"
        )
    return "\n".join(rows) + "\n"


def write_readme(path: str) -> None:
    """Put the current table between core/README.md's markers (``python -m bedside.core.commands --readme``)."""
    import re
    from pathlib import Path

    p = Path(path)
    text = p.read_text(encoding="utf-8")
    table = command_table()
    p.write_text(
        re.sub(
            r"(<!-- commands:begin -->\n).*(<!-- commands:end -->)", lambda m: m.group(1) + table + m.group(2), text, flags=re.S
        ),
        encoding="utf-8",
    )


if __name__ == "__main__":  # run as a script this module is __main__: use the registry of the real one
    import sys
    from pathlib import Path

    from bedside.core import commands as _real

    if sys.argv[1:] == ["--readme"]:
        _real.write_readme(str(Path(_real.__file__).with_name("README.md")))
    else:
        print(_real.command_table(), end="")
