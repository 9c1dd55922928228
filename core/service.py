"""The ledger: the one place where the store, the clock and the site key meet the folds.

The shell (screens, command line) asks the ledger for state and sends it commands
(:meth:`Ledger.execute`: fold, decide, append with the expected version, decide again on a lost
race); the ledger appends what the decision returns (committed at once) and folds it in.

A terminal never holds the whole log (issue 19): it starts from the last authenticated checkpoint
(core/wardindex.py: the users, the ward's index of patients, where the log's check got to) and
reads only the events after it; a patient's events are read from the store when the patient is
opened (a few dozen streams are kept, the least recently used let go); what other terminals
append is read as it comes (``after_seq``), checked, and folded into the index. Every cache is
derived from the log and rebuilt from it when it cannot be trusted. ``append`` (a builder of raw
events) remains for tests and the demo to set up a record.
"""

from __future__ import annotations

import random
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

# A job's commands and event classes register when their module is first imported (a screen
# builds the command it sends, so its decision is registered by then); decode() imports the rest
# on first sight of a kind it does not know. The first screen does not wait for every job.
from . import auth, intake
from .clock import Clock, ZoneChoice, current_zone, local_date, set_site_zone
from .commands import Actor, Command, Refusal, Refused, State, decide
from .events import Event, NewEvent, canonical_json
from .integrity import LOG_STREAM, Integrity, LogFinding, latest_seen
from .logcheck import LogChecker
from .projection import PatientView
from .site import SITE_STREAM, SetSiteSetting, SiteSettings, fold_site
from .store import ConcurrencyError, EventStore, StoreError, StoreUnavailable, StoreUncertain
from .wardindex import (
    CHECKPOINT_EVERY,
    Checkpoint,
    LazyMap,
    PatientEntry,
    batches,
    checkpoint_path,
    entry_of,
    read_checkpoint,
    write_checkpoint,
)

MAX_RETRIES = 5
# Ledger.execute: on a lost race, fold and decide again after a jittered, doubling back-off (8 writers
# on one stream on PostgreSQL had half their appends refused with five immediate retries). With 8
# processes each sending 200 commands to one stream without a pause (tests/core/test_ledger.py), the
# unluckiest command lost up to ~40 races in a row on PostgreSQL, so 40 tries were not enough; 120
# tries are at most ~11 s of back-off (17 s with the jitter's worst) before "too many terminals".
EXECUTE_ATTEMPTS = 120
BACKOFF_FIRST_S = 0.002
BACKOFF_MAX_S = 0.1
#: Patients' streams kept in memory (the least recently used is let go, and read again if needed).
LOADED_STREAMS = 24
#: Streams every terminal keeps whole from the start (small, and read by every screen).
KEPT_STREAMS = (SITE_STREAM, LOG_STREAM)


class Ledger:
    def __init__(self, store: EventStore, clock: Clock, key: auth.SiteKey, checkpoint: bool | Path | None = True):
        self.store = store
        self.clock = clock
        self.key = key
        if hasattr(store, "set_keys"):
            store.set_keys(key)  # every event it appends is authenticated (core/keyring.py)
        self.checkpoint_path = checkpoint_path(store, key) if checkpoint is True else (checkpoint or None)
        # Every event read is checked first (core/logcheck.py): one that is not authentic is never
        # applied, only remembered (issue 18). The stored versions and the last seq count it too,
        # so appends follow what the store holds and it is read only once.
        self._checker = LogChecker(key.keyring(), keyring_source=key.keyring)
        self._findings: list[LogFinding] = []
        self._rejected: set[int] = set()
        self._stored_versions: dict[str, int] = {}
        self._last_seq = 0
        self._kept: dict[str, list[Event]] = {s: [] for s in KEPT_STREAMS}
        self._streams: OrderedDict[str, list[Event]] = OrderedDict()  # patients' streams read so far
        self._entries: dict[str, PatientEntry] = {}
        self._sorted: list[PatientEntry] | None = None
        self._folded: dict[str, intake.Patient] = {}
        self._users: dict[str, auth.User] = {}
        self._site: SiteSettings | None = None
        self._token: object = None
        self._views: dict[str, PatientView] = {}
        self._resumed_at = 0  # the checkpoint this terminal started from (events up to it are rechecked when read)
        self._checkpointed = 0  # the seq of the last checkpoint read or written
        self.sleep: Callable[[float], None] = time.sleep  # the back-off's (tests may replace it)
        self._rng = random.Random()
        self.zone: ZoneChoice = current_zone()  # CONV-TIME-1: the site's zone, applied at boot and on each change
        self._boot()
        self._protections = self._protection_problems() + self._anchor_problems()

    def _boot(self) -> None:
        """Start from the checkpoint if it holds (else from the log's start), keep the small
        streams, then read and fold every event after it."""
        cp = self._valid_checkpoint()
        if cp is not None:
            self._checker.resume(cp.checker)
            self._last_seq = self._resumed_at = self._checkpointed = cp.seq
            self._stored_versions = dict(self._checker.versions)
            self._findings = [LogFinding(*f) for f in cp.findings]
            self._rejected = {f.seq for f in self._findings if f.rejected}
            self._users = dict(cp.users)
            self._entries = dict(cp.entries)
            for stream in KEPT_STREAMS:
                self._kept[stream] = self._load(stream)
        self._token = self.store.change_token()
        dirty: set[str] = set()
        for batch in batches(self.store.iter_events(after_seq=self._last_seq)):
            self._ingest(batch, dirty, index=False)
        self._reindex(dirty)
        self._site = None
        self.zone = set_site_zone(self.site().time_zone)
        if self._last_seq and (cp is None or self._last_seq - self._checkpointed >= CHECKPOINT_EVERY):
            self.write_checkpoint()

    def _valid_checkpoint(self) -> Checkpoint | None:
        """The checkpoint, if it is authentic and names the event the log holds at its seq (a log
        rewritten or cut short since is read again from its start)."""
        if self.checkpoint_path is None:
            return None
        cp = read_checkpoint(self.checkpoint_path, self._checker.keyring)
        if cp is None or cp.seq < 1:
            return None
        try:
            ev = self._event_at(cp.seq)
        except StoreError:
            return None
        return cp if ev is not None and ev.hash == cp.hash and self._checker.recheck(ev) is None else None

    def write_checkpoint(self) -> bool:
        """Keep what this terminal has derived, for the next one to start from (core/wardindex.py)."""
        self._checkpointed = self._last_seq
        if self.checkpoint_path is None or not self._last_seq:
            return False
        cp = Checkpoint(
            self._checker.prev_seq,
            self._checker.prev_hash,
            self._checker.position(),
            tuple((f.seq, f.ref, f.text, f.rejected) for f in self._findings),
            self.users(),
            self._entries,
            self.clock.now().isoformat(),
        )
        return write_checkpoint(self.checkpoint_path, cp, self._checker.keyring)

    def _event_at(self, seq: int) -> Event | None:
        ev = next(iter(self.store.iter_events(after_seq=seq - 1, batch=1)), None)
        return ev if ev is not None and ev.seq == seq else None

    # -- reading -------------------------------------------------------------------------------
    @property
    def last_seq(self) -> int:
        """The last event read, applied or not (a refused event is read once, not forever)."""
        return self._last_seq

    def refresh(self, force: bool = False) -> bool:
        """Fold in what other writers appended. Cheap when nothing changed."""
        fetched = self.fetch_new(force)
        return fetched is not None and self.ingest(*fetched)

    def fetch_new(self, force: bool = False) -> tuple[object, list[Event]] | None:
        """What other writers appended since the last fold, without folding it (safe in a
        watcher thread: it only reads the store). None when nothing changed."""
        # (Each store serialises its one connection between threads with its own lock: a query or
        # a whole append transaction at a time.)
        token = self.store.change_token()
        if not force and token == self._token:
            return None
        return token, self.store.read(after_seq=self.last_seq)

    def ingest(self, token: object, new: Sequence[Event]) -> bool:
        """Fold in events read by :meth:`fetch_new` (on the screens' thread). True if any were new."""
        self._token = token
        before = self.last_seq
        self._ingest(new)
        return self.last_seq != before

    def _ingest(self, new: Sequence[Event], dirty: set[str] | None = None, index: bool = True) -> None:
        """Check and fold events read in log order. ``dirty`` collects the patients whose index
        line must be made again (at once, unless ``index`` is False: the boot does it once)."""
        dirty = set() if dirty is None else dirty
        users: list[Event] = []
        for ev in new:
            if ev.seq <= self._last_seq:  # already folded (read twice by two threads)
                continue
            found = self._checker.check(ev)
            self._last_seq = ev.seq
            self._stored_versions[ev.stream] = max(ev.version, self._stored_versions.get(ev.stream, 0))
            if found:
                self._findings += [LogFinding(f.seq, ev.ref, f.text, f.reject) for f in found]
                if any(f.reject for f in found):
                    self._rejected.add(ev.seq)
                    continue  # not authentic: never applied (a forged user cannot sign in)
            self._route(ev, users, dirty)
        if users:
            self._users = auth.fold_users(users, self._users)
        if index:
            self._reindex(dirty)
            if self._site is None:  # a site setting arrived: apply its time zone
                self.zone = set_site_zone(self.site().time_zone)
            if self._last_seq - self._checkpointed >= CHECKPOINT_EVERY:
                self.write_checkpoint()

    def _route(self, ev: Event, users: list[Event], dirty: set[str]) -> None:
        """An authentic event to what keeps its stream: the users' batch, a kept stream, a
        patient's stream if it is loaded; a patient's index line is marked to be made again."""
        if ev.stream == auth.USERS_STREAM:
            users.append(ev)
        elif ev.stream in self._kept:
            self._kept[ev.stream].append(ev)
            self._site = None if ev.stream == SITE_STREAM else self._site
        elif ev.stream in self._streams:
            self._streams[ev.stream].append(ev)
        if ev.stream.startswith(intake.PATIENT_PREFIX):
            dirty.add(ev.stream[len(intake.PATIENT_PREFIX) :])

    def _reindex(self, pids: set[str]) -> None:
        """Make the index lines of these patients again from their streams (read if not kept)."""
        for pid in pids:
            stream = intake.PATIENT_PREFIX + pid
            events = self._events_of(stream)
            self._entries[pid] = entry_of(self._fold(pid, events), events)
        if pids:
            self._sorted = None

    def _events_of(self, stream: str) -> list[Event]:
        """A stream's events as folded (read from the store if not kept; kept from then on, the
        least recently used patient's let go)."""
        kept = self._kept.get(stream)
        if kept is not None:
            return kept
        events = self._streams.get(stream)
        if events is not None:
            self._streams.move_to_end(stream)
            return events
        if stream not in self._stored_versions:
            return []
        events = self._streams[stream] = self._load(stream)
        while len(self._streams) > LOADED_STREAMS:
            gone, _ = self._streams.popitem(last=False)
            pid = gone[len(intake.PATIENT_PREFIX) :]
            self._views.pop(pid, None)
            self._folded.pop(pid, None)
        return events

    def _load(self, stream: str) -> list[Event]:
        """A stream read from the store, as far as the log has been folded: an event refused
        before stays refused, and one the checkpoint vouched for is checked again as it is read
        (a row altered since is refused here, and reported)."""
        out: list[Event] = []
        for ev in self.store.read(stream):
            if ev.seq > self._last_seq:
                break  # not folded yet: it comes with the next refresh, in log order
            if not self.refused(ev):
                out.append(ev)
        return out

    def refused(self, ev: Event) -> bool:
        """``ev``, as read from the store now, is not to be believed: refused when the log was
        read, or, one the checkpoint vouched for, altered since (checked again here, reported)."""
        if ev.seq in self._rejected:
            return True
        if ev.seq <= self._resumed_at and (f := self._checker.recheck(ev)) is not None:
            self._findings.append(LogFinding(f.seq, ev.ref, f.text, True))
            self._rejected.add(ev.seq)
            return True
        return False

    def _fold(self, pid: str, events: Sequence[Event]) -> intake.Patient:
        version = events[-1].version if events else 0
        p = self._folded.get(pid)
        if p is None or p.version != version:
            p = self._folded[pid] = intake.fold_patient(pid, events)
        return p

    def users(self) -> dict[str, auth.User]:
        return self._users

    def roles(self) -> dict[str, str]:
        """User name → role (who may do what is decided in core, from the users log)."""
        return {u.username: u.role for u in self.users().values()}

    def site(self) -> SiteSettings:
        if self._site is None:
            self._site = fold_site(self._kept[SITE_STREAM])
        return self._site

    def patients(self) -> list[PatientEntry]:
        """Every patient's index line, by name then MRN (the list and its search read these)."""
        if self._sorted is None:
            self._sorted = sorted(self._entries.values(), key=lambda p: (p.name.casefold(), p.mrn))
        return self._sorted

    def entry(self, pid: str) -> PatientEntry:
        return self._entries[pid]

    def patient(self, pid: str) -> intake.Patient:
        """The patient's folded intake (their stream read if it is not kept). KeyError: no such patient."""
        if pid not in self._entries:
            raise KeyError(pid)
        return self._fold(pid, self._events_of(intake.PATIENT_PREFIX + pid))

    def lab_inbox(self):
        """The laboratory quarantine (core/labs/inbox.py): each message kept, with what was done."""
        from .labs import LABS_STREAM, fold_inbox

        return fold_inbox(self._events_of(LABS_STREAM))

    def stream_events(self, stream: str) -> list[Event]:
        return list(self._events_of(stream))

    @property
    def by_stream(self) -> Mapping[str, Sequence[Event]]:
        """Each stream's events as folded, read from the store on first use."""
        return LazyMap(self._stored_versions, self._events_of)

    def version(self, stream: str) -> int:
        """The stream's version in the store (events refused as not authentic included)."""
        return self._stored_versions.get(stream, 0)

    def is_rejected(self, seq: int) -> bool:
        """Event ``seq`` was refused as not authentic (never applied: core/logcheck.py)."""
        return seq in self._rejected

    def open_doses(self) -> list[tuple[str, str]]:
        """(patient, dose) of every dose started and not closed, from the index (the board folds
        only these patients)."""
        return [(e.id, d) for e in self._entries.values() for d in e.open_doses]

    # -- the log's integrity (issue 18) -----------------------------------------------------------
    def integrity(self) -> Integrity:
        """What is wrong with the log as read (refused events, gaps, broken links), the store's
        missing protections (checked at boot) and anchor, and the latest admin acknowledgement."""
        return Integrity(
            tuple(self._findings),
            self._protections,
            getattr(self.store, "anchor_error", None),
            latest_seen(self._kept[LOG_STREAM]),
        )

    def _anchor_problems(self) -> tuple[str, ...]:
        """At boot: each anchor the store keeps against the log as read (missing, not authentic,
        ahead of the log: truncated, or naming another event: rewritten), as verify-log does."""
        problems: list[str] = []
        for _ in range(3):  # another terminal may move an anchor past what was read: read on, look again
            problems, ahead = self._anchor_check()
            if not ahead:
                break
            self.refresh(force=True)
        return tuple(problems)

    def _anchor_check(self) -> tuple[list[str], bool]:
        from .logcheck import anchor_findings

        last = (self._checker.prev_seq, self._checker.prev_hash)
        problems: list[str] = []
        ahead = False
        for f in getattr(self.store, "anchors", ()):
            try:
                a = f.read()
            except StoreError:
                a = None
            ahead = ahead or (a is not None and a.seq > last[0])
            hashes = {}
            if a is not None and 0 < a.seq <= last[0]:
                try:
                    ev = self._event_at(a.seq)
                except StoreError:
                    ev = None
                if ev is not None:
                    hashes[a.seq] = ev.hash
            found, _notes = anchor_findings(f, last, hashes, self._checker.keyring, self._checker.keyed_seen)
            problems += [x.text for x in found]
        return problems, ahead

    def _protection_problems(self) -> tuple[str, ...]:
        """The store's own protections (SQLite: its triggers; PostgreSQL: also what the role the
        terminals connect as may do), once at boot."""
        check = getattr(self.store, "protection_problems", None)
        if check is None:
            return ()
        try:
            return tuple(check(roles=["current_user"]))
        except StoreError as exc:
            return (f"the store's protections could not be checked: {exc}",)

    def today(self):
        """The site's local calendar date now (CONV-TIME-1: dose days are local dates)."""
        return local_date(self.clock.now(), self.zone.zone)

    # -- writing -------------------------------------------------------------------------------
    def append(self, stream: str, decide: Callable[[], Sequence[NewEvent]]) -> list[Event]:
        """Append raw events (tests that need a state no command makes, and imports); the app's one
        writer is :meth:`execute` (tests/test_architecture.py: no screen calls this).

        Decide on the current state and append; on a lost race, re-read and decide again.

        ``decide`` is called with the ledger refreshed; it may raise ValueError to refuse.
        """
        for _ in range(MAX_RETRIES):
            stored = self._append_once(stream, list(decide()))
            if stored is not None:
                return stored
            self.refresh(force=True)
        raise ConcurrencyError(stream, self.version(stream), -1)

    def _append_once(self, stream: str, events: Sequence[NewEvent]) -> list[Event] | None:
        """Append at the stream's current version and fold the result in; None if another writer
        appended first (the caller reads again and decides again)."""
        expected = self.version(stream)
        try:
            stored = self.store.append(stream, expected, events)
        except ConcurrencyError:
            return None
        except StoreUncertain as exc:
            stored = self._committed_after_all(stream, expected, events, exc)
        if stored and stored[0].seq > self._last_seq + 1:
            # another terminal appended in between (to another stream): read it first, in log
            # order, so every event is checked and folded once (the chain has no false gap)
            try:
                self._ingest(self.store.read(after_seq=self._last_seq))
            except StoreError:
                return stored  # saved; the next refresh folds it in, in order
        self._ingest(stored)
        return stored

    def _committed_after_all(self, stream: str, expected: int, events: Sequence[NewEvent], exc: Exception) -> list[Event]:
        """The connection broke during a commit: re-read, and if our events are in the log they
        were saved (the user must not record them twice); otherwise nothing was saved."""
        try:
            self.refresh(force=True)
        except StoreUnavailable as again:
            raise StoreUnavailable(
                "The connection to the database was lost while saving, and it is still unreachable: "
                "whether this was saved is not known yet. When it is back, check the screen before entering it again.",
                True,
                str(exc),
            ) from again
        mine = [ev for ev in self._events_of(stream) if ev.version > expected][: len(events)]
        same = len(mine) == len(events) and all(
            (m.kind, m.actor, m.at, canonical_json(m.data)) == (n.kind, n.actor, n.at, canonical_json(n.data))
            for m, n in zip(mine, events, strict=True)
        )
        if same:
            return mine  # saved after all (already folded in by the refresh)
        raise StoreUnavailable(
            "The connection to the database was lost while saving. Nothing was saved; try again.", True, str(exc)
        )

    # -- the one command path ------------------------------------------------------------------
    def actor(self, username: str) -> Actor:
        """The user as the users log knows them now (the role is read here, never passed in)."""
        u = self.users().get(username)
        return Actor(username, None, False) if u is None else Actor(u.username, u.role, u.active)

    def state(self) -> State:
        """The folded record for a decision (no copy: decisions run on this thread, synchronously)."""
        return State(
            self.by_stream,
            self.users(),
            self.site(),
            LazyMap(self._entries, self.patient),
            self.today(),
            self.key,
            self.view,
            self._entries,
        )

    def view(self, pid: str) -> PatientView:
        """The patient's projection, rebuilt only when their stream, the users or the date change
        (never per key or per tick): every screen, the record, the export and the warnings read it."""
        stream = intake.PATIENT_PREFIX + pid
        today = self.today()
        users = self.users()
        v = self._views.get(pid)
        site = self.site()
        if v is None or v.version != self.version(stream) or v.today != today or v.users is not users or v.site is not site:
            patient = self.patient(pid)
            v = PatientView(patient, tuple(self._events_of(stream)), today, users, site)
            self._views[pid] = v
        return v

    def decide(self, command: Command, actor: str) -> Sequence[NewEvent] | Refusal:
        """What ``command`` would record now, without recording it (a dry run for the screens)."""
        self.refresh()
        now = self.clock.now()
        result = decide(self.state(), command, now, self.actor(actor))
        if isinstance(result, Refusal):
            return result
        return [p.new(command.stream, actor, now) for p in result]

    def execute(self, command: Command, actor: str) -> list[Event]:
        """Carry out a user's command: refresh, fold, decide, append with the expected version.

        On a lost race (another terminal appended first) it folds again and decides again — it
        never re-appends events decided on a stale record — after a jittered, doubling back-off.
        A refusal raises :class:`Refused` (a ValueError whose text names the field and the rule)."""
        stream = command.stream
        delay = BACKOFF_FIRST_S
        for attempt in range(EXECUTE_ATTEMPTS):
            if attempt:
                self.sleep(delay * (0.5 + self._rng.random()))
                delay = min(delay * 2, BACKOFF_MAX_S)
            self.refresh(force=attempt > 0)
            now = self.clock.now()
            result = decide(self.state(), command, now, self.actor(actor))
            if isinstance(result, Refusal):
                raise Refused(result)
            events = [p.new(stream, actor, now) for p in result]
            if not events:
                return []
            stored = self._append_once(stream, events)
            if stored is not None:
                return stored
        raise StoreUnavailable(
            "Too many terminals are saving to this record at the same moment; nothing was saved. Try again.",
            True,
            f"{EXECUTE_ATTEMPTS} lost races on {stream}",
        )

    # -- convenience: each builds one command and executes it ------------------------------------
    def sign_in(self, username: str, pin: str) -> auth.SignInResult:
        """Sign in as ``username`` (the actor of a failed try is the name typed). One answer for an
        unknown name, a wrong PIN and a locked account (core/auth)."""
        name = username.strip()
        try:
            recorded = self.execute(auth.SignIn(name, pin), name)
        except Refused:
            recorded = []
        return auth.sign_in_result(recorded, self.users())

    def add_user(self, actor: str, username: str, full_name: str, role: str, pin: str) -> auth.User:
        """Add a user (an admin), or the first admin (``actor`` "system", only while no user exists)."""
        first = actor == "system" and role == "admin" and not self.users()
        cmd = auth.CreateFirstAdmin(username, full_name, pin) if first else auth.AddUser(username, full_name, role, pin)
        self.execute(cmd, actor)
        return self.users()[username]

    def lock_ends(self, username: str):
        """When the user's lock lifts by itself, or None if they are not locked now."""
        u = self.users().get(username)
        return None if u is None else u.lock_ends(self.clock.now())

    def unlock_user(self, actor: str, username: str) -> None:
        """Lift a lock at once and clear the run of failed tries (ValueError: refused, no such user)."""
        self.execute(auth.UnlockUser(username), actor)

    def set_site(self, actor: str, name: str, value: Any) -> None:
        self.execute(SetSiteSetting(name, value), actor)

    def register_patient(self, actor: str, data: dict[str, Any]) -> intake.Patient:
        """Register a patient from an identity record already checked (the screens send the form)."""
        cmd = intake.RegisterPatient.of_record(data)
        self.execute(cmd, actor)
        return self.patient(cmd.pid)

    def record(self, actor: str, pid: str, section: str, data: dict[str, Any]) -> Event:
        """Record an intake form from a record already checked (the BSA is derived in the decision)."""
        (ev,) = self.execute(intake.RecordSection.of_record(pid, section, data), actor)
        return ev

    def correct(self, actor: str, pid: str, version: int, data: dict[str, Any], reason: str) -> Event:
        (ev,) = self.execute(intake.CorrectEntry.of_record(self.patient(pid), version, data, reason), actor)
        return ev

    # -- reading a patient through their projection ---------------------------------------------
    def timeline(self, pid: str):
        """The patient's treatment timeline today (their view's, folded once per version)."""
        return self.view(pid).timeline

    def predose_verdict(self, pid: str, cycle: int, day: int):
        """The pre-dose verdict of one dose (core/predose, memoised on the patient's view)."""
        from .predose import predose_verdict

        return predose_verdict(self.view(pid), cycle, day)
