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
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from attrs import evolve, field, frozen

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

    # -- a checkpoint (core/wardindex.py): the checker's place in the log, to go on from ---------
    def position(self) -> dict:
        """What the checker knows after the last event it checked (JSON-able; :meth:`resume`)."""
        legacy = [self.legacy[0], self.legacy[-1]] if self.legacy else []
        return {
            "prev_seq": self.prev_seq,
            "prev_hash": self.prev_hash,
            "versions": dict(self.versions),
            "newest_key": self.newest_key,
            "keyed_seen": self.keyed_seen,
            "legacy": legacy,
        }

    def resume(self, position: dict) -> None:
        """Go on from a :meth:`position` (kept in an authenticated checkpoint) as if every event up
        to it had been checked again."""
        self.prev_seq, self.prev_hash = int(position["prev_seq"]), str(position["prev_hash"])
        self.versions = {str(k): int(v) for k, v in position["versions"].items()}
        self.newest_key = position["newest_key"]
        self.keyed_seen = bool(position["keyed_seen"])
        self.legacy = [int(x) for x in position["legacy"]]

    def recheck(self, ev: Event) -> Finding | None:
        """An event checked before (its seq at or below the checker's place), read again: is it
        still authentic (its content matches its hash, its MAC verifies)? A row altered since the
        check is refused wherever it is read."""
        if stored_hash_of(ev) != ev.hash:
            return Finding(ev.seq, f"event {ev.seq} ({ev.ref}) was altered: its content does not match its hash", True)
        keyring = self.keyring
        if keyring is None:
            return None
        if not ev.mac:
            legacy = bool(self.legacy) and self.legacy[0] <= ev.seq <= self.legacy[-1]
            limit = keyring.legacy_through
            if legacy or (limit is not None and ev.seq <= limit):
                return None
            return Finding(ev.seq, f"event {ev.seq} ({ev.ref}) is not authenticated: it carries no MAC (forged)", True)
        problem = keyring.event_problem(ev.hash, ev.key_id, ev.mac)
        if problem is not None and keyring.rank(ev.key_id) is None and self._source is not None:
            self.keyring = keyring = self._source()
            problem = keyring.event_problem(ev.hash, ev.key_id, ev.mac)
        if problem is not None:
            return Finding(ev.seq, f"event {ev.seq} ({ev.ref}) is not authentic: {problem}", True)
        return None


# -- the whole log ----------------------------------------------------------------------------------
@frozen
class VerifyReport:
    """What a check found. ``since``: 0 for a full check, else the seq of the verified checkpoint
    it started after (``checkpoint``: when and by whom that was made); ``last``: the last event
    checked; ``position``: the checker's place after it (what a new checkpoint keeps)."""

    ok: bool
    events: int
    streams: int
    problems: tuple[str, ...]
    notes: tuple[str, ...]
    anchored: bool = True
    first_bad: int | None = None
    authenticated: bool = False
    since: int = 0
    checkpoint: str = ""
    last: int = 0
    position: Mapping[str, Any] = field(factory=dict, repr=False, eq=False)

    def summary(self) -> str:
        if self.ok:
            what = "hash chain" + (", every event's MAC" if self.authenticated else "")
            what += " and anchor verified" if self.anchored else " verified (no outside anchor kept)"
            head = f"INTACT: {self.events} events in {self.streams} streams; {what}."
            if self.since:
                done = f"events {self.since + 1}–{self.last} checked" if self.last > self.since + 1 else "no event"
                done = f"event {self.last} checked" if self.last == self.since + 1 else done
                head = f"INTACT: {done} after the checkpoint at {self.since} ({self.checkpoint}); {what}."
        else:
            first = f" First bad event: {self.first_bad}." if self.first_bad is not None else ""
            where = f"events {self.since + 1}–{self.last} (after the checkpoint at {self.since})" if self.since else ""
            head = f"NOT INTACT: {len(self.problems)} problem(s) in {where or f'{self.events} events'}.{first}"
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


def _anchor_seqs(anchors: Sequence[AnchorFile]) -> set[int]:
    """The seqs the anchors record now (their hashes are collected while the log streams past)."""
    return {a.seq for _, a in _readable(anchors)}


def _readable(anchors: Sequence[AnchorFile]):
    """Each anchor file that can be read, with what it records now (one that cannot is skipped)."""
    for f in anchors:
        try:
            a = f.read()
        except StoreError:
            continue
        if a is not None:
            yield f, a


def _stream(checker: LogChecker, events: Iterable[Event], anchor_seqs: set[int], wanted: dict[int, str]) -> tuple[list, int]:
    """Every event through the checker (one pass, nothing kept but the anchored hashes)."""
    findings: list[Finding] = []
    count = 0
    for ev in events:
        count += 1
        findings += checker.check(ev)
        if ev.seq in anchor_seqs:
            wanted[ev.seq] = ev.hash
    return findings, count


def _report(
    checker: LogChecker,
    findings: list[Finding],
    count: int,
    wanted: dict[int, str],
    anchors: Sequence[AnchorFile],
    protections: Sequence[str],
    anchor_expected: bool,
    legacy_count: int,
) -> VerifyReport:
    """The verdict once the events are checked: the anchors against the log's end, the legacy note."""
    last = (checker.prev_seq, checker.prev_hash)
    notes: list[str] = []
    keyed = checker.keyed_seen
    keyring = checker.keyring
    for f in anchors:
        more, n = anchor_findings(f, last, wanted, keyring, keyed)
        findings += more
        notes += n
    if not anchors and anchor_expected and last[0]:
        findings.append(Finding(last[0] + 1, "no anchor is kept: the log cannot be checked for truncation or rewriting", False))
    if checker.legacy:
        lo, hi = checker.legacy[0], checker.legacy[-1]
        if keyed:
            notes.append(
                f"events {lo}–{hi} predate the log's authentication; the chain authenticates them through the events after"
            )
        else:
            notes.append(f"no event is authenticated yet ({legacy_count} events predate it): the next entry seals them")
    problems = [f.text for f in findings] + list(protections)
    return VerifyReport(
        not problems,
        count,
        len(checker.versions),
        tuple(problems),
        tuple(notes),
        bool(anchors),
        min((f.seq for f in findings), default=None),
        keyring is not None and keyed,
        last=last[0],
        position=checker.position(),
    )


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
    findings, count = _stream(checker, events, _anchor_seqs(anchors), wanted)
    return _report(checker, findings, count, wanted, anchors, protections, anchor_expected, count)


# -- a verified checkpoint: a daily check reads only the events after the last one -----------------
VERIFIED_FORMAT = "bedside-verified/1"


class CheckpointRefused(Exception):
    """The verified checkpoint cannot be started from (the text says why, for the report)."""


@frozen
class VerifiedCheckpoint:
    """Where a check that found the log INTACT got to: event ``seq`` with ``hash``, the checker's
    ``position`` there, when (UTC), by whom and with what it was made, when the whole log was last
    read by a full check, and the seq each anchor recorded. Kept in a file authenticated with the
    site's keyring (:func:`write_verified`); derived, so losing it costs only a full check."""

    seq: int
    hash: str
    position: Mapping[str, Any]
    made_at: str
    made_by: str
    made_with: str
    full_at: str
    anchors: Mapping[str, int] = field(factory=dict)

    def body(self) -> str:
        return json.dumps(
            {
                "seq": self.seq,
                "hash": self.hash,
                "position": dict(self.position),
                "made_at": self.made_at,
                "made_by": self.made_by,
                "made_with": self.made_with,
                "full_at": self.full_at,
                "anchors": dict(self.anchors),
            },
            separators=(",", ":"),
        )

    @classmethod
    def parse(cls, body: str) -> VerifiedCheckpoint:
        d = json.loads(body)
        position = dict(d["position"])
        LogChecker(None).resume(position)  # a position the checker cannot take is a damaged file
        if int(d["seq"]) != int(position["prev_seq"]) or str(d["hash"]) != str(position["prev_hash"]) or int(d["seq"]) < 1:
            raise ValueError("its seq and hash are not the checker's")
        anchors = {str(k): int(v) for k, v in dict(d.get("anchors", {})).items()}
        strings = [str(d[k]) for k in ("made_at", "made_by", "made_with", "full_at")]
        return cls(int(d["seq"]), str(d["hash"]), position, *strings, anchors)

    def described(self) -> str:
        """How it is named to the user: "verified 2026-12-02 06:00 UTC by os:bedside, verify-log --full"."""
        from .text import printable

        return f"verified {_minute(self.made_at)} by {printable(self.made_by, escapes=True)}, {self.made_with}"


def _minute(iso: str) -> str:
    """An ISO UTC time as "2026-12-02 06:00 UTC" (the text kept, if it is not one)."""
    try:
        return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        from .text import printable

        return printable(iso, escapes=True)


def read_verified(path: Path, keyring: Keyring) -> VerifiedCheckpoint:
    """The checkpoint kept at ``path``, whole and authentic; else CheckpointRefused saying which
    (missing, unreadable, damaged, not authentic)."""
    from .text import printable

    name = printable(str(path), escapes=True)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CheckpointRefused(f"there is no verified checkpoint yet ({name})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CheckpointRefused(f"the checkpoint {name} cannot be read: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        head, body = text.split("\n", 1)
        meta = json.loads(head)
        if meta.get("format") != VERIFIED_FORMAT:
            raise ValueError(f"unknown format {meta.get('format')!r}")
        problem = keyring.checkpoint_problem(body, str(meta.get("key_id", "")), str(meta.get("mac", "")))
    except (ValueError, AttributeError, TypeError) as exc:
        raise CheckpointRefused(f"the checkpoint {name} is damaged ({exc})") from None
    if problem is not None:
        raise CheckpointRefused(f"the checkpoint {name} is not authentic: {problem} (forged, or made under another key file)")
    try:
        return VerifiedCheckpoint.parse(body)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CheckpointRefused(f"the checkpoint {name} is damaged ({exc})") from None


def write_verified(path: Path, checkpoint: VerifiedCheckpoint, keyring: Keyring, like: Path | None = None) -> None:
    """Write the checkpoint atomically (temporary file, fsync, rename), mode 0600 whatever the
    umask; run as root, owned as ``like`` (the database or key file) is. OSError if it cannot."""
    body = checkpoint.body()
    key_id, mac = keyring.sign_checkpoint(body)
    text = json.dumps({"format": VERIFIED_FORMAT, "key_id": key_id, "mac": mac}) + "\n" + body
    path = Path(path)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if like is not None and os.geteuid() == 0 and like.exists():
            st = like.stat()
            os.chown(tmp, st.st_uid, st.st_gid)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def checkpoint_of(report: VerifyReport, now: datetime, made_by: str, made_with: str, full_at: str, anchors) -> VerifiedCheckpoint:
    """The checkpoint an INTACT report gives (never one of a report that is not: ValueError)."""
    if not report.ok or report.last < 1:
        raise ValueError("a checkpoint is made only after a check that found a non-empty log intact")
    seqs = {str(f.path): a.seq for f, a in _readable(anchors)}
    made_at = now.astimezone(UTC).isoformat()
    pos = report.position
    return VerifiedCheckpoint(report.last, str(pos["prev_hash"]), pos, made_at, made_by, made_with, full_at or made_at, seqs)


def verify_after(
    checkpoint: VerifiedCheckpoint,
    event_at: Callable[[int], Event | None],
    events_after: Callable[[int], Iterable[Event]],
    keyring: Keyring,
    anchors: Sequence[AnchorFile] = (),
    protections: Sequence[str] = (),
    anchor_expected: bool = True,
) -> VerifyReport:
    """Check the log from a verified checkpoint on: the event at its seq must still be the one it
    verified (same hash, still authentic; else CheckpointRefused: rewritten, truncated, another
    log), then every event after it as :func:`verify_log` does, every anchor and the protections.
    ``event_at(seq)``: that event or None; ``events_after(seq)``: the log after it, streamed."""
    k = checkpoint.seq
    ev = event_at(k)
    if ev is None:
        raise CheckpointRefused(
            f"it records event {k}, which the log does not hold: the log was cut short (or restored from an older "
            "copy) since that check, or the checkpoint is of another log"
        )
    if ev.hash != checkpoint.hash:
        raise CheckpointRefused(
            f"event {k} is not the one it verified (its hash differs): the log was rewritten since that check, "
            "or the checkpoint is of another log"
        )
    checker = LogChecker(keyring)
    checker.resume(dict(checkpoint.position))
    again = checker.recheck(ev)
    if again is not None:
        raise CheckpointRefused(f"{again.text} since that check")
    wanted: dict[int, str] = {k: ev.hash}
    findings: list[Finding] = []
    seqs = _anchor_seqs(anchors)
    for seq in sorted(s for s in seqs if 0 < s < k):  # an anchor behind the checkpoint: its event read again
        old = event_at(seq)
        if old is not None:
            findings += [f for f in [checker.recheck(old)] if f is not None]
            wanted[seq] = old.hash
    more, count = _stream(checker, events_after(k), seqs, wanted)
    report = _report(checker, findings + more, count, wanted, anchors, protections, anchor_expected, checker.prev_seq)
    full = f"the whole log was last read by the full check of {_minute(checkpoint.full_at)}"
    note = f"events 1–{k} were verified before and not read again ({full}; `verify-log --full` reads them all)"
    return evolve(report, since=k, checkpoint=checkpoint.described(), notes=(*report.notes, note))
