"""Checking the event log: the chain, each event's MAC, the anchors and the store's protections.

One checker, :class:`LogChecker`, takes the events in log order and says what is wrong with each:
``bedside verify-log`` runs it over the whole log (:func:`verify_log`, streaming, in constant
memory) and the ledger runs it over each event it reads, so the app never applies an event that
:func:`verify_log` would reject (core/service.py).

An **anchor** is the log's head (seq and hash, with a MAC under the site's log key) kept outside the
database: beside it (``<database>.head``) and in any other places the site names (``--anchor PATH``,
another volume or host). Each append moves every anchor forward, never back; a missing anchor is
reported and never silently made again (only the first append to an empty log, or ``bedside anchor
reset`` after a full check, makes one). A log cut short and its anchor rolled back together is caught
by an anchor the attacker cannot reach.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from attrs import frozen

from .events import GENESIS_HASH, Event, canonical_json, event_hash, iso_utc
from .keyring import Keyring
from .store_errors import StoreError


class AnchorMissing(StoreError):
    """An anchor file that should exist does not (it is not made again silently)."""


def stored_hash_of(ev: Event) -> str:
    """The hash an event's content gives (equal to ``ev.hash`` unless it was altered)."""
    data = canonical_json(ev.data)
    return event_hash(ev.prev_hash, ev.seq, ev.stream, ev.version, ev.kind, ev.actor, iso_utc(ev.at), data)


# -- anchors --------------------------------------------------------------------------------------
@frozen
class Anchor:
    seq: int
    hash: str
    key_id: str = ""
    mac: str = ""

    @classmethod
    def signed(cls, seq: int, hash_: str, keyring: Keyring | None) -> Anchor:
        if keyring is None:
            return cls(seq, hash_)
        return cls(seq, hash_, *keyring.sign_anchor(seq, hash_))


class AnchorFile:
    """One anchor: a small JSON file, written after each commit under an exclusive lock, only
    forward, atomically (temporary file, fsync, rename), so concurrent writers never move it back."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")

    def __repr__(self) -> str:
        return f"AnchorFile({str(self.path)!r})"

    def read(self) -> Anchor | None:
        """The anchor, or None if the file is missing (StoreError: unreadable or malformed)."""
        try:
            raw = json.loads(self.path.read_text("utf-8"))
            return Anchor(int(raw["seq"]), str(raw["hash"]), str(raw.get("key_id", "")), str(raw.get("mac", "")))
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise StoreError(f"anchor file {self.path} is unreadable: {exc}") from exc
        except OSError as exc:
            raise StoreError(f"anchor file {self.path} cannot be read: {exc.strerror or exc}") from exc

    def advance(self, anchor: Anchor, create: bool = False) -> None:
        """Move the anchor to ``anchor`` if it is further on. A missing file is made only with
        ``create`` (the first append to an empty log, or a reset); otherwise AnchorMissing."""
        with os.fdopen(os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600), "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                current = self.read()
            except StoreError:
                current = None  # a damaged anchor is overwritten by a newer, authenticated one
                if not create and not self.path.exists():
                    raise
            else:
                if current is None and not create:
                    raise AnchorMissing(f"the anchor {self.path} is missing: it was not made again (run `bedside verify-log`)")
            if current is not None and current.seq >= anchor.seq and not (create and current.seq > anchor.seq):
                return
            self.write(anchor)

    def write(self, anchor: Anchor) -> None:
        tmp = self.path.with_name(self.path.name + f".tmp{os.getpid()}")
        body = {"seq": anchor.seq, "hash": anchor.hash, "key_id": anchor.key_id, "mac": anchor.mac}
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # the owner's only, whatever the umask
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(body))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)


# -- one event at a time --------------------------------------------------------------------------
@frozen
class Finding:
    """What is wrong at one place of the log. ``reject``: the event itself is not authentic and is
    never applied; otherwise the event is authentic but something around it (a gap, a broken link)
    is wrong."""

    seq: int
    text: str
    reject: bool


class LogChecker:
    """Checks events in log order against the chain and the keyring (None: the chain only).

    Events without a MAC are accepted only where the log predates its authentication: up to the
    keyring's ``legacy_through`` (recorded by the first authenticated append), or, while that is
    not recorded yet, until the first authenticated event.
    """

    def __init__(self, keyring: Keyring | None, keyring_source: Callable[[], Keyring] | None = None):
        self.keyring = keyring
        self._source = keyring_source
        self.prev_hash, self.prev_seq = GENESIS_HASH, 0
        self.versions: dict[str, int] = {}
        self.newest_key: str | None = None
        self.keyed_seen = False
        self.legacy: list[int] = []  # seqs of events accepted without a MAC

    def check(self, ev: Event) -> list[Finding]:
        found: list[Finding] = []
        if ev.seq != self.prev_seq + 1:
            found.append(Finding(self.prev_seq + 1, f"events {self.prev_seq + 1}–{ev.seq - 1} are missing (deleted)", False))
        if ev.prev_hash != self.prev_hash:
            found.append(Finding(ev.seq, f"event {ev.seq} ({ev.ref}) does not follow the previous event's hash", False))
        altered = stored_hash_of(ev) != ev.hash
        if altered:
            found.append(Finding(ev.seq, f"event {ev.seq} ({ev.ref}) was altered: its content does not match its hash", True))
        expected_version = self.versions.get(ev.stream, 0) + 1
        if ev.version != expected_version:
            found.append(Finding(ev.seq, f"{ev.stream}: version {ev.version} where {expected_version} was expected", False))
        if self.keyring is not None and not altered:
            found += self._authenticate(ev)
        self.versions[ev.stream] = max(ev.version, self.versions.get(ev.stream, 0))
        self.prev_hash, self.prev_seq = ev.hash, ev.seq
        return found

    def _authenticate(self, ev: Event) -> list[Finding]:
        keyring = self.keyring
        assert keyring is not None
        if not ev.mac:
            limit = keyring.legacy_through
            if (limit is None and not self.keyed_seen) or (limit is not None and ev.seq <= limit):
                self.legacy.append(ev.seq)
                return []
            return [Finding(ev.seq, f"event {ev.seq} ({ev.ref}) is not authenticated: it carries no MAC (forged)", True)]
        problem = keyring.event_problem(ev.hash, ev.key_id, ev.mac)
        if problem is not None and keyring.rank(ev.key_id) is None and self._source is not None:
            self.keyring = keyring = self._source()  # a rotation elsewhere: read the key file again
            problem = keyring.event_problem(ev.hash, ev.key_id, ev.mac)
        problem = problem or keyring.key_order_problem(ev.key_id, self.newest_key)
        if problem is not None:
            return [Finding(ev.seq, f"event {ev.seq} ({ev.ref}) is not authentic: {problem}", True)]
        self.keyed_seen = True
        if self.newest_key is None or (keyring.rank(ev.key_id) or 0) > (keyring.rank(self.newest_key) or 0):
            self.newest_key = ev.key_id
        return []


# -- the whole log ----------------------------------------------------------------------------------
@frozen
class VerifyReport:
    ok: bool
    events: int
    streams: int
    problems: tuple[str, ...]
    notes: tuple[str, ...]
    anchored: bool = True
    first_bad: int | None = None
    authenticated: bool = False

    def summary(self) -> str:
        if self.ok:
            what = "hash chain" + (", every event's MAC" if self.authenticated else "")
            what += " and anchor verified" if self.anchored else " verified (no outside anchor kept)"
            head = f"INTACT: {self.events} events in {self.streams} streams; {what}."
        else:
            first = f" First bad event: {self.first_bad}." if self.first_bad is not None else ""
            head = f"NOT INTACT: {len(self.problems)} problem(s) in {self.events} events.{first}"
        return "\n".join([head, *(f"  problem: {p}" for p in self.problems), *(f"  note: {n}" for n in self.notes)])


def anchor_findings(
    anchor_file: AnchorFile, last: tuple[int, str], hashes: dict[int, str], keyring: Keyring | None, keyed: bool
) -> tuple[list[Finding], list[str]]:
    """Problems and notes from one anchor against the log's end (``hashes``: seq → hash of the
    anchored positions, collected while streaming)."""
    name = str(anchor_file.path)
    try:
        anchor = anchor_file.read()
    except StoreError as exc:
        return [Finding(last[0] + 1, f"the anchor {name} is damaged: {exc}", False)], []
    if anchor is None:
        if last[0] == 0:
            return [], []
        return [
            Finding(last[0] + 1, f"the anchor {name} is missing: the log cannot be checked for truncation or rewriting", False)
        ], []
    if keyring is not None:
        problem = keyring.anchor_problem(anchor.seq, anchor.hash, anchor.key_id, anchor.mac)
        if problem is not None and (anchor.mac or keyed or keyring.legacy_through is not None):
            return [Finding(min(anchor.seq, last[0]) or 1, f"the anchor {name} is not authentic: {problem}", False)], []
    if anchor.seq > last[0]:
        return [
            Finding(
                last[0] + 1, f"the log ends at event {last[0]} but the anchor {name} records event {anchor.seq}: truncated", False
            )
        ], []
    if hashes.get(anchor.seq, GENESIS_HASH if anchor.seq == 0 else None) != anchor.hash:  # seq 0: an empty log's (ward init)
        return [
            Finding(anchor.seq, f"event {anchor.seq} differs from the head anchored in {name}: the log was rewritten", False)
        ], []
    notes = []
    if last[0] > anchor.seq:
        notes.append(f"{last[0] - anchor.seq} event(s) after the anchor {name} (a write was interrupted before it moved)")
    return [], notes


def verify_log(
    events: Iterable[Event],
    keyring: Keyring | None,
    anchors: Sequence[AnchorFile] = (),
    protections: Sequence[str] = (),
    anchor_expected: bool = True,
) -> VerifyReport:
    """Check the whole log (streamed once): every hash, the chain, the numbering, every MAC, every
    anchor and the store's own protections (``protections``: the store's problems, already found)."""
    checker = LogChecker(keyring)
    wanted: dict[int, str] = {}
    anchor_seqs = set()
    for f in anchors:
        try:
            a = f.read()
        except StoreError:
            a = None
        if a is not None:
            anchor_seqs.add(a.seq)
    findings: list[Finding] = []
    count = 0
    for ev in events:
        count += 1
        findings += checker.check(ev)
        if ev.seq in anchor_seqs:
            wanted[ev.seq] = ev.hash
    last = (checker.prev_seq, checker.prev_hash)
    notes: list[str] = []
    keyed = checker.keyed_seen
    for f in anchors:
        more, n = anchor_findings(f, last, wanted, keyring, keyed)
        findings += more
        notes += n
    if not anchors and anchor_expected and count:
        findings.append(Finding(last[0] + 1, "no anchor is kept: the log cannot be checked for truncation or rewriting", False))
    if checker.legacy:
        lo, hi = checker.legacy[0], checker.legacy[-1]
        if keyed:
            notes.append(
                f"events {lo}–{hi} predate the log's authentication; the chain authenticates them through the events after"
            )
        else:
            notes.append(f"no event is authenticated yet ({count} events predate it): the next entry seals them")
    problems = [f.text for f in findings] + list(protections)
    first_bad = min((f.seq for f in findings), default=None)
    return VerifyReport(
        not problems,
        count,
        len(checker.versions),
        tuple(problems),
        tuple(notes),
        bool(anchors),
        first_bad,
        keyring is not None and keyed,
    )
