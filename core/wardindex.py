"""The ward's index and the ledger's checkpoint (issue 19): a terminal's cost grows with what is
open, never with the years of the log.

A terminal needs, before any patient is opened, only: who the users are, the site's settings, one
short line per patient (the list, the search, the board's candidates: :class:`PatientEntry`) and
where the log's check has got to. All of it is derived from the log. The ledger (core/service.py)
keeps it up to date from each new event and now and then writes it to a :class:`Checkpoint`
file, authenticated with the site's keyring: the next terminal starts from there and reads only
the events after it. A checkpoint that is missing, damaged, not authentic, made by another
version of the folds, or that does not match the log (the event at its seq has another hash: the
log was rewritten or truncated) is ignored, and the index is rebuilt from the whole log.

Pure apart from :func:`read_checkpoint` / :func:`write_checkpoint`, which touch the file.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

from attrs import field, frozen

from .auth.users import User
from .events import Event
from .intake import INTAKE_ORDER, PATIENT_PREFIX, Patient
from .keyring import Keyring

FORMAT = "bedside-checkpoint/1"
#: Bump when a fold the checkpoint keeps (users, entries, the checker) changes meaning: every
#: checkpoint of an older version is then ignored and the index rebuilt from the log.
FOLD_VERSION = 2  # 2: the wristband identifier in each patient's line (issue 20)
#: A terminal writes a new checkpoint once it has folded this many events after the last one.
CHECKPOINT_EVERY = 2000

#: Every recorded fact counts when a dose is folded for the index (as core/infusion/projection.py).
_ALL_RECORDED = datetime(9000, 1, 1, tzinfo=UTC)


@frozen
class PatientEntry:
    """One patient's line in the ward's index: what the patient list, its search and the board
    need without loading the patient's events. ``open_doses``: doses started whose observation
    is not closed (a superset of those on the active-infusions board, which folds them)."""

    id: str
    version: int
    mrn: str
    name: str
    dob: str
    sex: str
    missing: tuple[str, ...]
    open_doses: tuple[str, ...] = ()
    wristband: str = ""  # the wristband's own identifier (issue 20): two patients never share one

    @property
    def stream(self) -> str:
        return PATIENT_PREFIX + self.id

    def to_json(self) -> list[Any]:
        return [self.version, self.mrn, self.name, self.dob, self.sex, list(self.missing), list(self.open_doses), self.wristband]

    @classmethod
    def from_json(cls, pid: str, row: Sequence[Any]) -> PatientEntry:
        version, mrn, name, dob, sex, missing, open_doses, wristband = row
        return cls(pid, int(version), str(mrn), str(name), str(dob), str(sex), tuple(missing), tuple(open_doses), str(wristband))


def entry_of(patient: Patient, events: Sequence[Event]) -> PatientEntry:
    """The patient's index line from their folded intake and their stream's events (the one
    definition: the rebuild and the incremental update both use it)."""
    from .infusion.fold import dose_ids, fold_dose

    identity = patient.identity
    open_doses = tuple(d for d in dose_ids(events) if fold_dose(events, d, _ALL_RECORDED).fold.closed_at is None)
    return PatientEntry(
        patient.id,
        patient.version,
        patient.mrn,
        patient.name,
        str(identity.get("dob", "") or ""),
        str(identity.get("sex", "") or ""),
        tuple(s for s in INTAKE_ORDER if not patient.history(s)),
        open_doses,
        patient.wristband,
    )


def checkpoint_path(store: Any, key: Any) -> Path | None:
    """Where the ledger keeps its checkpoint: beside a SQLite file (``<db>.checkpoint``), beside
    the key file for PostgreSQL (each host its own), none for a database in memory."""
    path = getattr(store, "path", None)
    if isinstance(path, str):
        return None if path in ("", ":memory:") or path.startswith("file:") else Path(path + ".checkpoint")
    if key.path is not None and hasattr(store, "dsn"):
        return Path(str(key.path) + ".checkpoint")
    return None


V = TypeVar("V")


class LazyMap(Mapping[str, V], Generic[V]):
    """The keys of ``keys`` (a live mapping: its keys as they are now), each value made by ``get``
    on first use: the record's streams and patients as a decision reads them, each read from the
    store only if the decision looks at it."""

    def __init__(self, keys: Mapping[str, Any], get: Callable[[str], V]):
        self._keys, self._get = keys, get

    def __getitem__(self, key: str) -> V:
        if key not in self._keys:
            raise KeyError(key)
        return self._get(key)

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._keys))

    def __len__(self) -> int:
        return len(self._keys)


def _user_json(u: User) -> list[Any]:
    until = u.locked_until.isoformat() if u.locked_until is not None else None
    return [u.full_name, u.role, u.pin_hash, u.active, u.failed, u.lockouts, until, [list(p) for p in u.preferences]]


def _user_of(name: str, row: Sequence[Any]) -> User:
    full_name, role, pin_hash, active, failed, lockouts, until, prefs = row
    locked = datetime.fromisoformat(until) if until else None
    return User(name, full_name, role, pin_hash, bool(active), int(failed), int(lockouts), locked, tuple(tuple(p) for p in prefs))


@frozen
class Checkpoint:
    """The ledger's derived state after event ``seq`` (whose hash is ``hash``): the checker's
    place (core/logcheck.py ``LogChecker.position``), what it found, each stream's version, the
    users, and the ward's index."""

    seq: int
    hash: str
    checker: Mapping[str, Any]
    findings: tuple[tuple[int, str, str, bool], ...]  # (seq, ref, text, reject): core/integrity LogFinding
    users: Mapping[str, User]
    entries: Mapping[str, PatientEntry]
    made_at: str = field(default="")

    def body(self) -> str:
        return json.dumps(
            {
                "fold_version": FOLD_VERSION,
                "seq": self.seq,
                "hash": self.hash,
                "made_at": self.made_at,
                "checker": dict(self.checker),
                "findings": [list(f) for f in self.findings],
                "users": {name: _user_json(u) for name, u in self.users.items()},
                "entries": {pid: e.to_json() for pid, e in self.entries.items()},
            },
            separators=(",", ":"),
            ensure_ascii=False,
        )

    @classmethod
    def parse(cls, body: str) -> Checkpoint | None:
        """The checkpoint in ``body`` (already authenticated), or None if another fold version made it."""
        d = json.loads(body)
        if d.get("fold_version") != FOLD_VERSION:
            return None
        return cls(
            int(d["seq"]),
            str(d["hash"]),
            d["checker"],
            tuple((int(s), str(r), str(t), bool(j)) for s, r, t, j in d["findings"]),
            {name: _user_of(name, row) for name, row in d["users"].items()},
            {pid: PatientEntry.from_json(pid, row) for pid, row in d["entries"].items()},
            str(d.get("made_at", "")),
        )


def read_checkpoint(path: Path, keyring: Keyring) -> Checkpoint | None:
    """The checkpoint kept at ``path`` if it is there, whole and authentic; else None (the caller
    rebuilds from the log: a checkpoint is never trusted on its word)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
        head, body = text.split("\n", 1)
        meta = json.loads(head)
        if meta.get("format") != FORMAT:
            return None
        if keyring.checkpoint_problem(body, str(meta.get("key_id", "")), str(meta.get("mac", ""))) is not None:
            return None
        return Checkpoint.parse(body)
    except (OSError, ValueError, KeyError, TypeError):  # missing, unreadable, cut short, not JSON
        return None


def write_checkpoint(path: Path, checkpoint: Checkpoint, keyring: Keyring) -> bool:
    """Write the checkpoint atomically (a reader sees the old file or the new one), owner-only.
    False if it could not be written (a full disk, a read-only folder): a cache, so nothing is lost."""
    body = checkpoint.body()
    key_id, mac = keyring.sign_checkpoint(body)
    head = json.dumps({"format": FORMAT, "key_id": key_id, "mac": mac})
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    except OSError:
        return False
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:  # mkstemp: mode 0600 whatever the umask
            fh.write(head + "\n" + body)
        os.replace(tmp, path)
        return True
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        return False


def batches(events: Iterator[Event] | Sequence[Event], size: int = 5000) -> Iterator[list[Event]]:
    """The events in lists of ``size`` (the boot folds a batch at a time)."""
    batch: list[Event] = []
    for ev in events:
        batch.append(ev)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
