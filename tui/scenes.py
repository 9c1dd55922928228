"""The scenes: every screen of the app, reached by keys on the demo database at a fixed time.

One list, :data:`SCENES`, made into the pictures in ``screenshots/`` (tui/screenshots.py), the
snapshot tests (tests/tui/test_snapshots.py) and the proof-reading of every screen's text
(tests/tui/test_strings.py). A scene is a coroutine ``steps(app, pilot)`` run on a fresh demo
database whose clock stands still at :data:`SHOT_TIME` (in UTC), so each picture is repeatable.
A scene that needs a few records the demo lacks sends them as commands (``ledger.execute``), as
the screens do; the rest is keys.
"""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import attrs

SHOT_TIME = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
SIZE = (80, 24)
WIDE = (120, 40)

Step = Callable[[object, object], Awaitable[None]]


@attrs.frozen
class Scene:
    """One screen in one state: how to reach it, and where its picture goes."""

    name: str  # the test id: "patient-list"
    steps: Step
    shot: str  # its picture: screenshots/<shot>.svg (and <shot>-120x40.svg when wide)
    empty: bool = False  # a database with nothing in it: the first start
    wide: bool = False  # a main screen: also at 120x40
    no_color_shot: str = ""  # screenshots/ also has it without colour, under this name
    needs: str = ""  # a feature not every build has ("f1", "ctrl+p", "theme"): skipped without it
    no_color: bool = True  # also drawn with NO_COLOR (not a theme: NO_COLOR keeps the terminal's colours)


# -- keys ----------------------------------------------------------------------------------------
def _key_event(key: str):
    """The key event Pilot.press sends for ``key`` ("a", "enter", "ctrl+s", ",")."""
    import unicodedata

    from textual import events
    from textual.keys import REPLACED_KEYS, _character_to_key, _get_unicode_name_from_key

    if len(key) == 1 and not key.isalnum():
        key = _character_to_key(key)
    try:
        char = unicodedata.lookup(_get_unicode_name_from_key(REPLACED_KEYS.get(key, key)))
    except KeyError:
        char = key if len(key) == 1 else None
    return events.Key(key, char)


async def press(pilot, *keys: str) -> None:
    """The keys as Pilot.press sends them, with one wait after each for the screen to settle
    (Pilot.press waits twice per key, which makes the scenes' tests twice as slow)."""
    for key in keys:
        pilot.app._driver.send_message(_key_event(key))
        await pilot.pause()


async def type_text(pilot, text: str) -> None:
    """``text`` typed in one burst, as a quick typist or a scanner sends it: a key event for each
    character, then one wait."""
    for ch in text:
        pilot.app._driver.send_message(_key_event(ch))
    await pilot.pause()


async def sign_in(pilot, user: str = "nina") -> None:
    await type_text(pilot, user)
    await press(pilot, "enter")
    await type_text(pilot, "1234")
    await press(pilot, "enter")
    await pilot.pause()


async def sign_in_as_prescriber(app, pilot) -> None:
    """The AuthScreen a nurse meets for a prescriber's step: priya signs in on the same terminal."""
    dlg = app.screen
    dlg.query_one("#f-user").value = "priya"
    dlg.query_one("#f-pin").value = "1234"
    await press(pilot, "ctrl+s")
    await pilot.pause()


async def find(pilot, name: str) -> None:
    """On the patient list: search for ``name`` and open the patient."""
    await press(pilot, "slash")
    await type_text(pilot, name)
    await press(pilot, "enter", "enter")


async def highlight(app, pilot, row: str) -> None:
    """Move the focused table's cursor to the row whose key is ``row`` with the arrow keys."""
    from textual.widgets import DataTable

    table = app.screen.focused
    assert isinstance(table, DataTable), f"no table has the focus on {app.screen}"
    steps = table.get_row_index(row) - table.cursor_row
    if steps:
        await press(pilot, *(["down"] * steps if steps > 0 else ["up"] * -steps))


def pid_of(app, mrn: str) -> str:
    return next(p.id for p in app.ledger.patients() if p.mrn == mrn)


def start_cycle_today(app, mrn: str, days_ago: int = 0) -> str:
    from bedside.core import schedule as sch

    pid = pid_of(app, mrn)
    app.ledger.execute(sch.StartCycle(pid, app.ledger.today() - timedelta(days=days_ago)), "priya")
    return pid


def prepare_first_dose(app, mrn: str, *, verified: bool) -> str:
    """Cycle 1 started today for ``mrn``, its pre-dose records in, and the C1 D1 bag calculated,
    reconstituted and diluted by phil (and double-checked by noah if ``verified``)."""
    from bedside.core import predose as pd
    from bedside.core import preparation as prep
    from bedside.core.clock import fmt_local

    ledger, clock = app.ledger, app.ledger.clock
    pid = start_cycle_today(app, mrn)
    p = ledger.patient(pid)
    today = ledger.today().isoformat()
    ledger.execute(pd.ConfirmIdentity(pid, 1, 1, p.name, p.identity["dob"], p.mrn, "typed"), "nina")
    given = fmt_local(clock.now() - timedelta(minutes=30), day=False)
    for cls, drug in (("corticosteroid", "dexamethasone"), ("antipyretic", "paracetamol"), ("antihistamine", "loratadine")):
        ledger.execute(pd.RecordPremed(pid, 1, 1, cls, drug, "std", given), "nina")
    ledger.execute(pd.RecordEcg(pid, today), "nina")
    ledger.execute(pd.RecordElectrolytes(pid, today), "nina")
    ledger.execute(pd.RecordChecklist(pid, 1, 1, True), "nina")
    ledger.execute(prep.CalculateDose(pid, 1, 1), "phil")
    ledger.execute(prep.Reconstitute(pid, "c1d1", clock.now() - timedelta(minutes=25)), "phil")
    ledger.execute(prep.Dilute(pid, "c1d1", clock.now() - timedelta(minutes=15), "refrigerated"), "phil")
    if verified:
        ledger.execute(prep.DoubleCheck(pid, "c1d1", **ledger.view(pid).prep("c1d1").calculation.expected()), "noah")
    return pid


# -- the scenes ------------------------------------------------------------------------------------
async def nothing(app, pilot) -> None:
    return None


async def patients(app, pilot) -> None:
    await sign_in(pilot)


async def patient(app, pilot) -> None:
    await sign_in(pilot)
    await press(pilot, "down", "enter")


async def patient_measure(app, pilot) -> None:
    await patient(app, pilot)
    await highlight(app, pilot, "measurement")


async def intake_form(app, pilot) -> None:
    await patient(app, pilot)
    await highlight(app, pilot, "labs")
    await press(pilot, "enter")


async def form_error(app, pilot) -> None:
    await sign_in(pilot)
    await press(pilot, "enter")
    await highlight(app, pilot, "measurement")
    await press(pilot, "enter")
    form = app.screen
    form.query_one("#f-height_cm").value = "172"
    form.query_one("#f-weight_kg").value = "7000"
    form.query_one("#f-measured_on").value = "2026-03-01"
    await press(pilot, "ctrl+s")


async def register(app, pilot) -> None:
    await sign_in(pilot)
    await press(pilot, "n")
    await type_text(pilot, "NGUYEN, An")


async def correction(app, pilot) -> None:
    await patient_measure(app, pilot)
    await press(pilot, "x")


async def audit_patient(app, pilot) -> None:
    await patient(app, pilot)
    await press(pilot, "a")


async def audit_event(app, pilot) -> None:
    await audit_patient(app, pilot)
    await press(pilot, "enter")


async def audit_all(app, pilot) -> None:
    await sign_in(pilot)
    await press(pilot, "a")


async def printed_record(app, pilot) -> None:
    await patient(app, pilot)
    await press(pilot, "P")


async def boxed(app, pilot) -> None:
    await patient(app, pilot)
    await press(pilot, "w")


async def lock(app, pilot) -> None:
    await patient(app, pilot)
    app.action_lock()


async def users(app, pilot) -> None:
    await sign_in(pilot, "adam")
    await press(pilot, "u")


async def add_user(app, pilot) -> None:
    await users(app, pilot)
    await press(pilot, "n")


async def settings(app, pilot) -> None:
    await sign_in(pilot, "adam")
    await press(pilot, "s")


async def nakamura(app, pilot) -> None:
    """The demo's patient with C1 D8 infusing since 09:10."""
    await sign_in(pilot)
    await find(pilot, "naka")


async def timeline(app, pilot) -> None:
    await nakamura(app, pilot)
    await press(pilot, "t", "right")


async def timeline_c1d15(app, pilot) -> None:
    await timeline(app, pilot)
    await press(pilot, "right")


async def timeline_held(app, pilot) -> None:
    from bedside.core import schedule as sch

    await sign_in(pilot)
    ledger = app.ledger
    pid = start_cycle_today(app, "MRN-100231", days_ago=8)
    ledger.execute(sch.RecordDoseGiven(pid, 1, 1, ledger.today() - timedelta(days=8)), "nina")
    ledger.execute(sch.HoldDose(pid, 1, 8, "Grade 2 ALT increase", "non_hematologic"), "priya")
    await press(pilot, "down", "enter", "t", "right")


async def timeline_in_error(app, pilot) -> None:
    await timeline_held(app, pilot)
    await press(pilot, "E")


async def timeline_cosign(app, pilot) -> None:
    await timeline_in_error(app, pilot)
    app.screen.query_one("#f-value").value = "held on the wrong day's labs"
    await press(pilot, "ctrl+s")
    await pilot.pause()


async def timeline_marked(app, pilot) -> None:
    await timeline_cosign(app, pilot)
    await sign_in_as_prescriber(app, pilot)


async def predose(app, pilot) -> None:
    await timeline(app, pilot)
    await press(pilot, "c")


async def predose_premed(app, pilot) -> None:
    await predose(app, pilot)
    await press(pilot, "m")


async def predose_hold(app, pilot) -> None:
    await sign_in(pilot)
    start_cycle_today(app, "MRN-100377")
    await find(pilot, "osei")
    await press(pilot, "t", "c")


async def preparation(app, pilot) -> None:
    await timeline(app, pilot)
    await press(pilot, "p")


async def preparation_step(app, pilot) -> None:
    """Phil records the reconstitution of a freshly calculated bag."""
    from bedside.core import preparation as prep

    await sign_in(pilot, "phil")
    pid = start_cycle_today(app, "MRN-100231")
    app.ledger.execute(prep.CalculateDose(pid, 1, 1), "phil")
    await find(pilot, "hart")
    await press(pilot, "t", "p")
    await pilot.pause()
    await press(pilot, "r")


async def syringe_volume(app, pilot) -> None:
    await sign_in(pilot, "phil")
    start_cycle_today(app, "MRN-200518")  # the child: syringe route
    await find(pilot, "lind")
    await press(pilot, "t", "right", "p")  # Day 8: 0.43 mg, below the bag range
    await pilot.pause()
    await press(pilot, "c")
    await pilot.pause()
    await press(pilot, "V")


async def on_preparation(app, pilot, user: str, key: str, *, verified: bool) -> None:
    """``user`` opens the preparation of HARTMAN's C1 D1 bag (prepare_first_dose) and presses ``key``."""
    await sign_in(pilot, user)
    prepare_first_dose(app, "MRN-100231", verified=verified)
    await find(pilot, "hart")
    await press(pilot, "t", "p")
    await pilot.pause()
    await press(pilot, key)


async def double_check(app, pilot) -> None:
    """Noah, a second user, opens the blind double-check of a bag phil prepared."""
    await on_preparation(app, pilot, "noah", "v", verified=False)


async def monitor(app, pilot) -> None:
    await timeline(app, pilot)
    await press(pilot, "i")


async def monitor_ready(app, pilot) -> None:
    """A verified bag whose pre-dose verdict is PROCEED: the monitor before the start."""
    await sign_in(pilot)
    prepare_first_dose(app, "MRN-100231", verified=True)
    await find(pilot, "hart")
    await press(pilot, "t", "i")


async def bag_label(app, pilot) -> None:
    """The label of a verified bag (l on the preparation): what is printed and scanned at the start."""
    await on_preparation(app, pilot, "phil", "l", verified=True)


async def monitor_bag_scan(app, pilot) -> None:
    """Start pressed on a ready dose: the bag label asked for, a label of another bag refused."""
    from bedside.core.preparation import baglabel

    await monitor_ready(app, pilot)
    await pilot.pause()
    await press(pilot, "s")
    await pilot.pause()
    pid = pid_of(app, "MRN-100231")
    diluted = next(s for s in app.ledger.view(pid).prep("c1d1").steps if s.step == "diluted")
    other = baglabel.code_of(pid_of(app, "MRN-100590"), "c1d1", diluted)  # NAKAMURA's C1 D1 label
    await type_text(pilot, baglabel.shown(other))
    await press(pilot, "enter")


async def monitor_refused(app, pilot) -> None:
    """Start pressed on a dose that was never prepared: the refusal, with one OK key."""
    await sign_in(pilot)
    start_cycle_today(app, "MRN-100231")
    await find(pilot, "hart")
    await press(pilot, "t", "i")
    await pilot.pause()
    await press(pilot, "s")


async def monitor_paused(app, pilot) -> None:
    from bedside.core import infusion as inf

    await sign_in(pilot)
    app.ledger.execute(inf.PauseInfusion(pid_of(app, "MRN-100590"), "c1d8", reason="patient to the bathroom"), "nina")
    await find(pilot, "naka")
    await press(pilot, "t", "right", "i")


async def monitor_observing(app, pilot) -> None:
    app.ledger.clock.advance(minutes=45)  # 10:15: the 60 minutes ended at 10:10
    await monitor(app, pilot)


async def monitor_vitals(app, pilot) -> None:
    await monitor(app, pilot)
    await pilot.pause()
    await press(pilot, "v")


async def monitor_reaction(app, pilot) -> None:
    await monitor(app, pilot)
    await pilot.pause()
    await press(pilot, "e")


async def board(app, pilot) -> None:
    await sign_in(pilot)
    await press(pilot, "i")


async def warnings(app, pilot) -> None:
    await nakamura(app, pilot)
    await press(pilot, "v")


async def warnings_renal(app, pilot) -> None:
    await sign_in(pilot)
    await find(pilot, "osei")
    await press(pilot, "v")
    await pilot.pause()
    await press(pilot, "end", "up", "up")  # the renal warning is listed after the boxed warning and VOD factors


async def store_busy(app, pilot) -> None:
    import apsw

    await register(app, pilot)
    form = app.screen
    form.query_one("#f-dob").value = "1980-05-17"
    form.query_one("#f-mrn").value = "MRN-9001"
    form.query_one("#f-sex").value = "male"
    app.ledger.store.conn.set_busy_timeout(50)
    other = apsw.Connection(app.ledger.store.path)
    other.execute("BEGIN IMMEDIATE")  # another program holds the write lock
    try:
        await press(pilot, "ctrl+s")
        await pilot.pause()
    finally:
        other.execute("ROLLBACK")
        other.close()


def forge_admin(app, username: str = "mallory") -> int:
    """Issue 18's insider: an admin ``user.created`` appended to the database file directly (apsw),
    after the head, with the right seq, version and hash but no MAC (the insider lacks the site key).
    The app reads it at once (the watcher's read), and refuses it. Returns its seq."""
    import json

    import apsw
    from attrs import evolve

    from bedside.core.logcheck import stored_hash_of

    last = app.ledger.store.read()[-1]
    users = app.ledger.version("users")
    data = {"username": username, "full_name": "M", "role": "admin", "pin_hash": "x"}
    ev = evolve(last, seq=last.seq + 1, stream="users", version=users + 1, kind="user.created", actor="system")
    ev = evolve(ev, data=data, prev_hash=last.hash, hash="", key_id="", mac="")
    conn = apsw.Connection(app.ledger.store.path)
    try:
        (at,) = conn.execute("SELECT at_utc FROM events WHERE seq = ?", (last.seq,)).fetchone()
        row = (ev.seq, ev.stream, ev.version, ev.kind, ev.actor, at, json.dumps(data, sort_keys=True, separators=(",", ":")))
        conn.execute(
            "INSERT INTO events (seq, stream, version, kind, actor, at_utc, data, prev_hash, hash, key_id, mac) "
            "VALUES (?,?,?,?,?,?,?,?,?,'','')",
            (*row, ev.prev_hash, stored_hash_of(ev)),
        )
    finally:
        conn.close()
    app.poll_store()
    return ev.seq


async def integrity_banner(app, pilot) -> None:
    """A forged admin in the log: the nurse's patient list says so on its top line."""
    forge_admin(app)
    await sign_in(pilot)


async def integrity_report(app, pilot) -> None:
    """The admin opens the report from the warning's key (r on the patient list)."""
    forge_admin(app)
    await sign_in(pilot, "adam")
    await press(pilot, "r")


def lab_message(app, mrn: str, mid: str, as_mrn: str | None = None) -> str:
    """A demo sample result for ``mrn`` (core/labs/sample.py), as the laboratory feed hands it in
    (core/labfeed.py); ``as_mrn`` sends it under another MRN (unmatched: the Lab inbox keeps it)."""
    from bedside.core import labfeed
    from bedside.core.labs.sample import sample_oru

    ledger = app.ledger
    p = ledger.patient(pid_of(app, mrn))
    identity = {**p.identity, "mrn": as_mrn or mrn}
    text = sample_oru(identity, p.current("labs"), ledger.clock.now() - timedelta(hours=2), mid)
    labfeed.import_text(ledger, text, f"{mid}.hl7", "os:labfeed")
    return text


async def lab_inbox(app, pilot) -> None:
    """A result for an MRN not on the ward, kept in the Lab inbox; the admin opens it (l)."""
    app.lab_folder = "/srv/bedside/lab-drop"
    lab_message(app, "MRN-100231", "LAB-20260302-0417", as_mrn="MRN-100213")
    await sign_in(pilot, "adam")
    await press(pilot, "l")


async def predose_from_lab(app, pilot) -> None:
    """HARTMAN's first dose today, her labs sent by the laboratory: the check names the source."""
    start_cycle_today(app, "MRN-100231")
    lab_message(app, "MRN-100231", "LAB-20260302-0388")
    await sign_in(pilot)
    await find(pilot, "hart")
    await press(pilot, "t", "c")
    table = app.screen.query_one("DataTable")
    for row in range(table.row_count):
        if "ANC" in str(table.get_row_at(row)[1]):
            table.move_cursor(row=row)
            break
    await pilot.pause()


def themed(theme: str) -> Step:
    """The patient screen for a nurse whose remembered theme is ``theme`` (applied at sign-in)."""

    async def steps(app, pilot) -> None:
        from bedside.core import auth

        app.ledger.execute(auth.SetPreference("nina", "theme", theme), "nina")
        await patient(app, pilot)

    return steps


async def help_screen(app, pilot) -> None:
    await patient(app, pilot)
    await press(pilot, "f1")


async def palette(app, pilot) -> None:
    """ctrl+p on the patient list: the app's own commands, once the palette has listed them."""
    from textual.command import CommandInput, CommandList

    await sign_in(pilot)
    await press(pilot, "ctrl+p")
    for _ in range(100):  # the palette gathers its commands in a worker
        if app.screen.query(CommandList) and app.screen.query_one(CommandList).option_count:
            break
        await pilot.pause(0.02)
    field = app.screen.query_one(CommandInput)
    field.cursor_blink = False  # Textual's own input blinks twice a second: the picture would depend on when
    field._cursor_visible = True


SCENES: tuple[Scene, ...] = (
    Scene("sign-in", nothing, "01-sign-in"),
    Scene("first-admin", nothing, "02-first-admin", empty=True),
    Scene("patient-list", patients, "03-patient-list", wide=True),
    Scene("register", register, "04-register-patient"),
    Scene("patient", patient, "05-patient", wide=True),
    Scene("patient-bsa-detail", patient_measure, "06-patient-bsa-detail", no_color_shot="16-patient-no-color"),
    Scene("intake-form", intake_form, "07a-intake-form"),
    Scene("intake-form-error", form_error, "07-intake-form-error", no_color_shot="17-intake-form-error-no-color"),
    Scene("correction", correction, "08-correction"),
    Scene("audit-patient", audit_patient, "09-audit-patient", wide=True),
    Scene("audit-event", audit_event, "09b-audit-event"),
    Scene("audit-all", audit_all, "10-audit-all"),
    Scene("printed-record", printed_record, "10b-printed-record"),
    Scene("boxed-warning", boxed, "11-boxed-warning"),
    Scene("lock", lock, "12-idle-lock"),
    Scene("users", users, "13-users"),
    Scene("add-user", add_user, "14-add-user"),
    Scene("settings", settings, "15-settings"),
    Scene("timeline", timeline, "18-timeline", wide=True),
    Scene("timeline-next-dose", timeline_c1d15, "19-timeline-next-dose"),
    Scene("timeline-held", timeline_held, "19b-timeline-held"),
    Scene("timeline-entry-in-error", timeline_in_error, "19c-timeline-entry-in-error"),
    Scene("timeline-prescriber-sign-in", timeline_cosign, "19e-timeline-prescriber-sign-in"),
    Scene("timeline-entry-marked", timeline_marked, "19d-timeline-entry-marked"),
    Scene("predose-proceed", predose, "20-predose-proceed", wide=True),
    Scene("predose-premedication", predose_premed, "20b-predose-premedication"),
    Scene("predose-hold", predose_hold, "21-predose-hold"),
    Scene("preparation", preparation, "22-preparation", wide=True),
    Scene("preparation-step", preparation_step, "22a-preparation-step"),
    Scene("preparation-syringe-volume", syringe_volume, "22b-preparation-syringe-volume"),
    Scene("double-check", double_check, "22c-double-check"),
    Scene("monitor-ready", monitor_ready, "23a-monitor-ready"),
    Scene("monitor-refused", monitor_refused, "23b-monitor-refused"),
    Scene("bag-label", bag_label, "22d-bag-label"),
    Scene("monitor-bag-scan", monitor_bag_scan, "23g-monitor-bag-scan"),
    Scene("monitor-infusing", monitor, "23-monitor-infusing", wide=True, no_color_shot="24-monitor-no-color"),
    Scene("monitor-paused", monitor_paused, "23c-monitor-paused"),
    Scene("monitor-observing", monitor_observing, "23d-monitor-observing"),
    Scene("monitor-vitals", monitor_vitals, "23e-monitor-vitals"),
    Scene("monitor-reaction", monitor_reaction, "23f-monitor-reaction"),
    Scene("active-infusions", board, "25-active-infusions"),
    Scene("warnings", warnings, "26-warnings"),
    Scene("warnings-renal", warnings_renal, "26b-warnings-renal"),
    Scene("store-busy", store_busy, "27-store-busy"),
    Scene("integrity-banner", integrity_banner, "30-integrity-banner"),
    Scene("integrity-report", integrity_report, "31-integrity-report"),
    Scene("lab-inbox", lab_inbox, "32-lab-inbox"),
    Scene("predose-from-laboratory", predose_from_lab, "33-predose-from-laboratory"),
    Scene("patient-light-theme", themed("light"), "05b-patient-light-theme", needs="theme", no_color=False),
    Scene("patient-high-contrast", themed("high-contrast"), "05c-patient-high-contrast", needs="theme", no_color=False),
    Scene("help", help_screen, "28-help", needs="f1"),
    Scene("palette", palette, "29-command-palette", needs="ctrl+p"),
)


# -- what a test needs beside the scenes -----------------------------------------------------------
def available(scene: Scene) -> bool:
    """The feature a scene shows exists in this build: its key is bound (help on F1), the
    command palette is switched on (ctrl+p), themes are remembered per user (theme)."""
    if not scene.needs:
        return True
    from textual.binding import Binding

    from .app import BedsideApp
    from .screens.patient import PatientScreen

    if scene.needs == "ctrl+p":
        return bool(BedsideApp.ENABLE_COMMAND_PALETTE)
    if scene.needs == "theme":
        from bedside.core import auth

        return hasattr(auth, "SetPreference")
    for cls in (BedsideApp, PatientScreen):
        for klass in cls.__mro__:
            for b in vars(klass).get("BINDINGS", ()):
                keys = b.key if isinstance(b, Binding) else b[0]
                if scene.needs in keys.split(","):
                    return True
    return False


def screen_text(app) -> str:
    """What the terminal shows, as plain text (the app's screen with the screens under a dialog),
    plus the text of any toast: what the proof-reading reads."""
    from rich.console import Console

    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True, legacy_windows=False, color_system=None)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    toasts = [f"{n.title}: {n.message}" for n in app._notifications]
    return "\n".join([console.export_text(styles=False), *toasts])
