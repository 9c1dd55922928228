"""The ledger: the one place where the store, the clock and the site key meet the folds.

The shell (screens, command line) asks the ledger for state and sends it commands
(:meth:`Ledger.execute`: fold, decide, append with the expected version, decide again on a lost
race); the ledger appends what the decision returns (committed at once) and folds it in. It keeps
an in-memory copy of the log and reads only what is new (``after_seq``), so another terminal's
writes arrive cheaply. ``append`` (a builder of raw events) remains for the jobs not yet moved to
commands, and for tests and the demo to set up a record.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import Any

# A job's commands and event classes register when their module is first imported (a screen
# builds the command it sends, so its decision is registered by then); decode() imports the rest
# on first sight of a kind it does not know. The first screen does not wait for every job.
from . import auth, intake
from .clock import Clock, ZoneChoice, current_zone, local_date, set_site_zone
from .commands import Actor, Command, Refusal, Refused, State, decide
from .events import Event, NewEvent, canonical_json
from .integrity import Integrity, LogFinding, latest_seen
from .logcheck import LogChecker
from .projection import PatientView
from .site import SITE_STREAM, SetSiteSetting, SiteSettings, fold_site
from .store import ConcurrencyError, EventStore, StoreError, StoreUnavailable, StoreUncertain

MAX_RETRIES = 5
# Ledger.execute: on a lost race, fold and decide again after a jittered, doubling back-off (8 writers
# on one stream on PostgreSQL had half their appends refused with five immediate retries). With 8
# processes each sending 200 commands to one stream without a pause (tests/core/test_ledger.py), the
# unluckiest command lost up to ~40 races in a row on PostgreSQL, so 40 tries were not enough; 120
# tries are at most ~11 s of back-off (17 s with the jitter's worst) before "too many terminals".
EXECUTE_ATTEMPTS = 120
BACKOFF_FIRST_S = 0.002
BACKOFF_MAX_S = 0.1


class Ledger:
    def __init__(self, store: EventStore, clock: Clock, key: auth.SiteKey):
        self.store = store
        self.clock = clock
        self.key = key
        if hasattr(store, "set_keys"):
            store.set_keys(key)  # every event it appends is authenticated (core/keyring.py)
        self.events: list[Event] = []
        self.by_stream: dict[str, list[Event]] = {}
        # Every event read is checked first (core/logcheck.py): one that is not authentic is never
        # applied, only remembered (issue 18). The stored versions and the last seq count it too,
        # so appends follow what the store holds and it is read only once.
        self._checker = LogChecker(key.keyring(), keyring_source=key.keyring)
        self._findings: list[LogFinding] = []
        self._stored_versions: dict[str, int] = {}
        self._last_seq = 0
        self._patients: dict[str, intake.Patient] = {}
        self._users: dict[str, auth.User] | None = None
        self._site: SiteSettings | None = None
        self._token: object = None
        self._views: dict[str, PatientView] = {}
        self.sleep: Callable[[float], None] = time.sleep  # the back-off's (tests may replace it)
        self._rng = random.Random()
        self.zone: ZoneChoice = current_zone()  # CONV-TIME-1: the site's zone, applied at boot and on each change
        self.refresh(force=True)
        self._protections = self._protection_problems() + self._anchor_problems()

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
        # (The store serialises its one connection between threads: SqliteStore's lock; psycopg's
        # connections are thread-safe.)
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

    def _ingest(self, new: Sequence[Event]) -> None:
        for ev in new:
            if ev.seq <= self._last_seq:  # already folded (read twice by two threads)
                continue
            found = self._checker.check(ev)
            self._last_seq = ev.seq
            self._stored_versions[ev.stream] = max(ev.version, self._stored_versions.get(ev.stream, 0))
            if found:
                self._findings += [LogFinding(f.seq, ev.ref, f.text, f.reject) for f in found]
                if any(f.reject for f in found):
                    continue  # not authentic: never applied (a forged user cannot sign in)
            self.events.append(ev)
            self.by_stream.setdefault(ev.stream, []).append(ev)
            if ev.stream == auth.USERS_STREAM:
                self._users = None
            elif ev.stream == SITE_STREAM:
                self._site = None
            elif ev.stream.startswith(intake.PATIENT_PREFIX):
                pid = ev.stream[len(intake.PATIENT_PREFIX) :]
                self._patients[pid] = intake.apply(self._patients.get(pid) or intake.Patient(pid), ev)
        if self._site is None:  # at boot, or a site setting arrived: apply its time zone
            self.zone = set_site_zone(self.site().time_zone)

    def users(self) -> dict[str, auth.User]:
        if self._users is None:
            self._users = auth.fold_users(self.by_stream.get(auth.USERS_STREAM, []))
        return self._users

    def roles(self) -> dict[str, str]:
        """User name → role (who may do what is decided in core, from the users log)."""
        return {u.username: u.role for u in self.users().values()}

    def site(self) -> SiteSettings:
        if self._site is None:
            self._site = fold_site(self.by_stream.get(SITE_STREAM, []))
        return self._site

    def patients(self) -> list[intake.Patient]:
        return sorted(self._patients.values(), key=lambda p: (p.name.casefold(), p.mrn))

    def patient(self, pid: str) -> intake.Patient:
        return self._patients[pid]

    def stream_events(self, stream: str) -> list[Event]:
        return list(self.by_stream.get(stream, []))

    def version(self, stream: str) -> int:
        """The stream's version in the store (events refused as not authentic included)."""
        return self._stored_versions.get(stream, 0)

    # -- the log's integrity (issue 18) -----------------------------------------------------------
    def integrity(self) -> Integrity:
        """What is wrong with the log as read (refused events, gaps, broken links), the store's
        missing protections (checked at boot) and anchor, and the latest admin acknowledgement."""
        from .integrity import LOG_STREAM

        return Integrity(
            tuple(self._findings),
            self._protections,
            getattr(self.store, "anchor_error", None),
            latest_seen(self.by_stream.get(LOG_STREAM, ())),
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
        from bisect import bisect_left

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
            if a is not None:
                i = bisect_left(self.events, a.seq, key=lambda ev: ev.seq)
                if i < len(self.events) and self.events[i].seq == a.seq:
                    hashes[a.seq] = self.events[i].hash
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
        mine = [ev for ev in self.by_stream.get(stream, []) if ev.version > expected][: len(events)]
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
        return State(self.by_stream, self.users(), self.site(), self._patients, self.today(), self.key, self.view)

    def view(self, pid: str) -> PatientView:
        """The patient's projection, rebuilt only when their stream, the users or the date change
        (never per key or per tick): every screen, the record, the export and the warnings read it."""
        stream = intake.PATIENT_PREFIX + pid
        today = self.today()
        users = self.users()
        v = self._views.get(pid)
        site = self.site()
        if v is None or v.version != self.version(stream) or v.today != today or v.users is not users or v.site is not site:
            v = PatientView(self._patients[pid], tuple(self.by_stream.get(stream, ())), today, users, site)
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
