"""The ``bedside`` command. Parsing and the non-interactive commands never import Textual."""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
from contextlib import contextmanager
from pathlib import Path

DEFAULT_DB_NAME = "bedside.db"


def default_db_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("bedside", appauthor=False)) / DEFAULT_DB_NAME


def resolve_db(arg: str | None) -> Path | str:
    """--db, else $BEDSIDE_DB, else the default path; a postgresql:// URL stays a str (not a Path)."""
    from bedside.tui.dbcli import resolve_target

    return resolve_target(arg)


def _version() -> str:
    """The installed package's version (pyproject.toml), from its metadata."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("bedside")
    except PackageNotFoundError:  # run from a tree that is not installed
        return "unknown"


def _add_print(sub) -> None:
    """``bedside print record`` and ``bedside print label``."""
    from . import labelprint

    pr = sub.add_parser("print", help="print a record as plain text")
    prs = pr.add_subparsers(dest="what", metavar="WHAT", parser_class=_Parser, required=True)
    rec = prs.add_parser("record", help="80-column medication administration record of a patient")
    rec.add_argument("mrn")
    rec.add_argument("--cycle", type=whole_number(1, 99), default=None, help="one cycle only")
    rec.add_argument("--db", metavar="PATH", dest="sub_db")
    rec.add_argument("--demo", action="store_true", dest="sub_demo", help="a demo patient, from a throw-away demo database")
    lab = prs.add_parser(
        "label",
        help="the bag label of a prepared dose (what the nurse scans at the start)",
        description="The label of the dose's current bag, 40 columns: the patient, the dose, who diluted and "
        "checked it, until when it may run, and its code (B and 12 digits), which the infusion monitor's start "
        "asks for. Exit 0 printed, 1 no such patient, 2 no bag for that dose (its dilution is not recorded).",
    )
    lab.add_argument("mrn")
    lab.add_argument("--cycle", type=whole_number(1, 99), required=True)
    lab.add_argument("--day", type=whole_number(1, 28), required=True)
    lab.add_argument(
        "--format",
        choices=labelprint.FORMATS,
        default="text",
        help="text (the default), svg (100 x 80 mm with the code as a Code 128 barcode, for any printer) or zpl "
        "(ZPL II for a Zebra label printer, 203 dpi: | nc PRINTER 9100); see tui/labelprint.py",
    )
    lab.add_argument("--db", metavar="PATH", dest="sub_db")
    lab.add_argument("--demo", action="store_true", dest="sub_demo", help="a demo patient, from a throw-away demo database")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="bedside",
        description="Bedside: give BESPONSA (inotuzumab ozogamicin) safely, from a terminal.",
        epilog=(
            "Database: --db PATH_OR_URL, else $BEDSIDE_DB, else the user's data directory. "
            "Mouse: the app takes the mouse (clicks) unless --no-mouse or BEDSIDE_MOUSE=0; without it the "
            "terminal's own selection and copy work. In the app, F1 lists the keys of each screen and "
            "ctrl+p opens the command palette."
        ),
    )
    p.add_argument("--version", action="version", version=f"bedside {_version()}")
    p.add_argument(
        "--db", metavar="PATH_OR_URL", help="the SQLite database (shared path for a ward server) or a postgresql:// URL"
    )
    p.add_argument("--demo", action="store_true", help="run on a throw-away demo database (not for clinical use)")
    p.add_argument(
        "--speed", type=speed_value, default=None, metavar="X", help="demo clock speed (default 60: an hour per minute)"
    )
    p.add_argument(
        "--no-mouse",
        action="store_true",
        help="leave the mouse to the terminal, so its selection and copy work (also BEDSIDE_MOUSE=0); every action has a key",
    )
    p.add_argument(
        "--watch-labs",
        metavar="DIR",
        help="read laboratory results dropped in DIR while the app runs (as `import labs --watch`; the demo has its own)",
    )
    p.add_argument(
        "--anchor",
        metavar="PATH",
        action="append",
        default=[],
        help="keep and check the log's anchor here too (repeatable; also $BEDSIDE_ANCHOR, colon-separated)",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    from bedside.tui.keycli import add_key_commands

    add_key_commands(sub)
    c = sub.add_parser("calc", help="dose preparation trail for height, weight, cycle and day (no database)")
    c.add_argument("--height-cm", required=True, metavar="CM")
    c.add_argument("--weight-kg", required=True, metavar="KG")
    c.add_argument("--cycle", required=True, metavar="N")
    c.add_argument("--day", required=True, metavar="D")
    c.add_argument("--response", metavar="R", help="cr, cri or none (needed from cycle 2)")
    c.add_argument("--reduction", default="none", metavar="R", help="none, 25 or two-doses")
    c.add_argument("--formula", default=None, metavar="F", help="mosteller (default), dubois, haycock, gehan-george, boyd")
    c.add_argument("--syringe-volume-ml", metavar="ML", help="pharmacist's syringe volume (syringe route only)")
    c.add_argument("--json", action="store_true", help="one JSON object instead of the text trail")
    _add_print(sub)
    ex = sub.add_parser("export", help="export a record")
    exs = ex.add_subparsers(dest="what", metavar="WHAT", parser_class=_Parser, required=True)
    fh = exs.add_parser(
        "fhir",
        help="a FHIR R4 Bundle of a patient, as JSON on standard output",
        description="A FHIR R4 transaction Bundle of one patient's treatment (each entry a PUT of its own id: "
        "posting it again updates, never duplicates), with the site's MRN system and RxNorm code when set "
        "(Site settings).",
    )
    fh.add_argument("mrn")
    fh.add_argument("--collection", action="store_true", help="a collection Bundle (no requests), the form of before")
    fh.add_argument("--db", metavar="PATH", dest="sub_db")
    fh.add_argument("--demo", action="store_true", dest="sub_demo", help="a demo patient, from a throw-away demo database")
    from bedside.tui.dbcli import add_db_commands
    from bedside.tui.labscli import add_import_commands
    from bedside.tui.serve import add_serve_command
    from bedside.tui.userscli import add_users_commands
    from bedside.tui.wardcli import add_ward_commands

    add_db_commands(sub)
    add_import_commands(sub)
    add_serve_command(sub)
    add_users_commands(sub)
    add_ward_commands(sub)
    return p


#: The app's wait for another connection's write lock (core/store.py DEFAULT_BUSY_MS): short, so
#: a screen never freezes for long; the user is told the database is busy and can retry.
APP_BUSY_MS = 2_000


def open_store(db: Path | str, busy_ms: int | None = None):
    from bedside.tui.dbcli import open_any_store

    return open_any_store(db, busy_ms=busy_ms)


def cmd_verify_log(db: Path | str, anchors: list[str] = (), roles: list[str] = (), incremental: bool = False) -> int:
    from bedside.tui.keycli import cmd_verify_log as verify

    return verify(db, list(anchors), list(roles), incremental)


def demo_tmpdir() -> str:
    """A new ``bedside-demo-<pid>-…`` folder in the temp dir, after removing those of this user's
    earlier demos whose process is gone (killed with SIGKILL, a crash, a power cut: the only ends
    that no handler sees)."""
    import os
    import re
    import shutil
    import tempfile

    base = Path(tempfile.gettempdir())
    try:
        for old in base.glob("bedside-demo-*"):
            m = re.fullmatch(r"bedside-demo-(\d+)-.+", old.name)
            if not m or not old.is_dir() or old.is_symlink() or old.stat().st_uid != os.getuid():
                continue
            try:
                os.kill(int(m.group(1)), 0)
            except ProcessLookupError:
                shutil.rmtree(old, ignore_errors=True)  # its demo is over
            except (PermissionError, OverflowError):
                pass  # alive (another user's) or not a pid: left alone
    except OSError:
        pass  # an unreadable temp dir: the new folder below still tells
    return tempfile.mkdtemp(prefix=f"bedside-demo-{os.getpid()}-")


#: BEDSIDE_MOUSE: these turn the app's mouse capture off, those leave it on (case-insensitive).
MOUSE_OFF = ("0", "no", "off", "false")
MOUSE_ON = ("", "1", "yes", "on", "true")


def mouse_wanted(args: argparse.Namespace) -> bool:
    """Whether the app captures the mouse: not with --no-mouse or BEDSIDE_MOUSE=0 (no, off, false);
    any other value of BEDSIDE_MOUSE is refused in one line."""
    import os

    if getattr(args, "no_mouse", False):
        return False
    value = os.environ.get("BEDSIDE_MOUSE", "").strip().lower()
    if value in MOUSE_OFF:
        return False
    if value in MOUSE_ON:
        return True
    raise UsageError(f"BEDSIDE_MOUSE: 0 (or no, off, false) turns the mouse off, 1 leaves it on; got {value!r}")


class _Session:
    """What one run of the app opened: its stores and its lab watcher, closed at the end."""

    def __init__(self) -> None:
        self.stores: list = []
        self.watchers: list = []
        self.app = None

    def watch_labs(self, folder: Path, open_ledger) -> None:
        """The app's drop-folder watcher (tui/labwatch.py), started once the database is open."""
        from bedside.tui.labwatch import LabWatcher
        from bedside.tui.userscli import os_actor

        watcher = LabWatcher(folder, open_ledger, os_actor(), self.app.labs_arrived_from_thread)
        self.app.lab_folder = folder
        self.watchers.append(watcher)
        watcher.start()

    def close(self) -> None:
        for watcher in self.watchers:
            watcher.stop()
        for store in self.stores:
            store.close()


def _demo_boot(session: _Session, tmp: str, speed: float):
    def boot():
        from bedside.core.clock import ScaledClock
        from bedside.core.demo import DEMO_KEY, seed
        from bedside.core.service import Ledger

        store = open_store(Path(tmp) / "demo.db")
        session.stores.append(store)
        clock = ScaledClock(speed)
        seed(store, clock)
        ledger = Ledger(store, clock, DEMO_KEY)
        folder = demo_lab_folder(Path(tmp), ledger)
        session.watch_labs(folder, lambda: Ledger(open_store(Path(tmp) / "demo.db"), clock, DEMO_KEY))
        return ledger

    return boot


def _ward_boot(session: _Session, db, watch: str | None):
    def boot():
        from bedside.core.auth import SiteKey
        from bedside.core.clock import RealClock
        from bedside.core.service import Ledger
        from bedside.tui.dbcli import site_key_path

        def ledger_of(store):
            return Ledger(store, RealClock(), SiteKey(site_key_path(db)))

        store = open_store(db, busy_ms=APP_BUSY_MS)
        session.stores.append(store)
        ledger = ledger_of(store)
        if watch:
            session.watch_labs(Path(watch), lambda: ledger_of(open_store(db, busy_ms=APP_BUSY_MS)))
        return ledger

    return boot


def _first_run(db) -> bool | str:
    """True for a database with no user yet; a line to print when the database cannot be read."""
    from bedside.tui.dbcli import has_users_any

    try:
        return not has_users_any(db)
    except Exception as exc:
        from bedside.core.store import StoreError, translate_sqlite_error

        known = exc if isinstance(exc, StoreError) else translate_sqlite_error(exc, str(db))
        if known is None:
            raise
        return f"bedside: {known}"


def run_app(args: argparse.Namespace) -> int:
    import shutil

    tmp = None
    session = _Session()
    if args.demo:
        tmp = demo_tmpdir()
        boot, first_run = _demo_boot(session, tmp, args.speed or 60.0), False
    else:
        if args.speed:
            print("bedside: --speed is for --demo only", file=sys.stderr)
            return 2
        db = resolve_db(args.db)
        if args.watch_labs and not Path(args.watch_labs).is_dir():
            print(f"bedside: --watch-labs: no folder {args.watch_labs}", file=sys.stderr)
            return 2
        first_run = _first_run(db)
        if isinstance(first_run, str):
            print(first_run, file=sys.stderr)
            return 2
        boot = _ward_boot(session, db, args.watch_labs)
    try:
        from bedside.tui.app import BedsideApp

        app = session.app = BedsideApp(demo=args.demo, boot=boot, first_run=first_run)
        with _removed_on_signal(tmp, [app]):
            app.run(mouse=args.mouse)
        return app.return_code or 0
    finally:
        session.close()
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def demo_lab_folder(tmp: Path, ledger) -> Path:
    """The demo's drop folder (``lab-drop``) and, beside it, a sample results file per demo patient
    with labs (``lab-samples/<MRN>.hl7``, collected now, the demo's own values: core/labs/sample.py)."""
    from bedside.core.labs.sample import sample_oru

    folder, samples = tmp / "lab-drop", tmp / "lab-samples"
    folder.mkdir(mode=0o700, exist_ok=True)
    samples.mkdir(mode=0o700, exist_ok=True)
    now = ledger.clock.now()
    for n, entry in enumerate(ledger.patients(), 1):
        p = ledger.patient(entry.id)
        labs, identity = p.current("labs"), p.identity
        if labs and identity:
            text = sample_oru(identity, labs, now, f"DEMO-{now:%Y%m%d%H%M}-{n}")
            (samples / f"{entry.mrn}.hl7").write_text(text, encoding="utf-8")
    return folder


@contextmanager
def _removed_on_signal(tmp: str | None, running: list | None = None):
    """While inside: SIGHUP (a dropped SSH link) and SIGTERM remove the demo folder at once and
    end the app (or the command) in order, so the callers' ``finally`` runs and no
    ``bedside-demo-*`` folder is left behind. A second signal, or an app that cannot finish within
    5 s (its terminal gone), ends the process; the folder is already gone by then."""
    import os
    import shutil
    import signal
    import threading

    def end_now(code: int) -> None:
        """The app did not finish in time: remove the folder again (a thread still running may
        have written to it since, e.g. the lab folder watcher) and end the process."""
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
        os._exit(code)

    def handler(signum, frame):
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
        code = 128 + signum
        app = running[0] if running else None
        if app is not None and app.is_running and not handled:
            handled.append(signum)
            app.exit(return_code=code)  # Textual restores the terminal; the stores close in finally
            timer = threading.Timer(5.0, end_now, (code,))
            timer.daemon = True  # never keeps a finished process alive
            timer.start()
            return
        raise SystemExit(code)

    handled: list[int] = []
    previous = {}
    for sig in (signal.SIGHUP, signal.SIGTERM):
        with contextlib.suppress(ValueError, OSError):  # not the main thread (an in-process test): nothing to do
            previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


class UsageError(Exception):
    """One line naming the option and its allowed values (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, status 2
        raise UsageError(message)

    def _get_values(self, action, arg_strings):
        # ``--response=--`` leaves argparse an empty list where one string belongs (its ``--``
        # handling); refuse it here, naming the option, instead of failing later on a list.
        value = super()._get_values(action, arg_strings)
        if action.nargs is None and isinstance(value, list):
            name = "/".join(action.option_strings) or action.metavar or action.dest
            self.error(f"argument {name}: expected one value")
        return value


_ASCII_INT = re.compile(r"[0-9]{1,9}")


def whole_number(lo: int, hi: int):
    """An argparse ``type``: ASCII digits only (``int()`` would take "٣"; ``isdigit`` takes "³"),
    from ``lo`` to ``hi``; argparse names the option in the message (exit 2)."""

    def parse(text: str) -> int:
        if not isinstance(text, str) or not _ASCII_INT.fullmatch(text.strip()) or not lo <= int(text) <= hi:
            raise argparse.ArgumentTypeError(f"a whole number from {lo} to {hi} is required, got {text!r}")
        return int(text)

    parse.__name__ = "whole number"
    return parse


#: The demo clock's factor: above 0, at most this (a larger one overflows the clock's dates).
MAX_SPEED = 10_000.0
_DECIMAL = re.compile(r"[0-9]{1,6}(\.[0-9]{1,6})?|\.[0-9]{1,6}")


def speed_value(text: str) -> float:
    """An argparse ``type`` for ``--speed``: a plain positive decimal (no NaN, inf or exponent)."""
    if not isinstance(text, str) or not _DECIMAL.fullmatch(text.strip()) or not 0 < float(text) <= MAX_SPEED:
        raise argparse.ArgumentTypeError(f"a number above 0 and at most {MAX_SPEED:g} is required, got {text!r}")
    return float(text)


def _decimal_option(name: str, text: str | None, limit: str | None = None):
    from decimal import Decimal

    from bedside.core import rules
    from bedside.core.intake import NUMBER_RE

    if text is None or not NUMBER_RE.match(text.strip()):
        rng = ""
        if limit:
            lo, hi, *_r, unit = rules.INPUT_LIMITS[limit]
            rng = f" from {lo} to {hi} {unit}"
        raise UsageError(f"{name}: a plain number{rng} is required, got {text!r}")
    value = Decimal(text.strip())
    if limit:
        lo, hi, *_r, unit = rules.INPUT_LIMITS[limit]
        if not lo <= value <= hi:
            raise UsageError(f"{name}: {text} is outside {lo} to {hi} {unit}")
    return value


def cmd_calc(args: argparse.Namespace) -> int:
    from bedside.core import calc, rules

    height = _decimal_option("--height-cm", args.height_cm, "height_cm")
    weight = _decimal_option("--weight-kg", args.weight_kg, "weight_kg")
    if not _ASCII_INT.fullmatch(str(args.cycle)) or not 1 <= int(args.cycle) <= 99:  # "³".isdigit()
        raise UsageError(f"--cycle: a whole number from 1 to 99, got {args.cycle!r}")
    cycle = int(args.cycle)
    if args.day not in ("1", "8", "15"):
        raise UsageError(f"--day: 1, 8 or 15 (SCHED-1), got {args.day!r}")
    day = int(args.day)
    responses = {"cr": True, "cri": True, "none": False}
    if args.response is None:
        if cycle >= 2:
            raise UsageError("--response: needed from cycle 2: cr, cri or none (DOSE-4, CONV-RESP-4)")
        in_cr = None
    elif args.response not in responses:
        raise UsageError(f"--response: cr, cri or none, got {args.response!r}")
    else:
        in_cr = responses[args.response]
    if args.reduction not in calc.REDUCTIONS:
        raise UsageError(f"--reduction: none, 25 or two-doses, got {args.reduction!r}")
    formula = (args.formula or rules.BSA_DEFAULT_FORMULA).replace("-", "_")
    if formula not in calc.FORMULAS:
        raise UsageError(f"--formula: mosteller, dubois, haycock, gehan-george or boyd, got {args.formula!r}")
    syringe = None
    if args.syringe_volume_ml is not None:
        syringe = _decimal_option("--syringe-volume-ml", args.syringe_volume_ml)
    try:
        level = calc.regimen_level(cycle, day, in_cr, args.reduction)
        prep = calc.with_reduction(calc.prepare(height, weight, level, formula, syringe_volume_ml=syringe), args.reduction)
    except ValueError as exc:
        raise UsageError(f"calc: {exc}") from None
    if args.json:
        print(calc.to_json(prep))
    else:
        print("\n".join(prep.trail_lines()))
    return 0


def open_ledger(db: Path | str):
    from bedside.core.auth import SiteKey
    from bedside.core.clock import RealClock
    from bedside.core.service import Ledger
    from bedside.tui.dbcli import site_key_path, store_exists

    if not store_exists(db):
        raise UsageError(f"no database at {db}")
    return Ledger(open_store(db), RealClock(), SiteKey(site_key_path(db)))


def cmd_records(args: argparse.Namespace) -> int:
    if args.demo or args.sub_demo:
        if args.sub_db or args.db:
            raise UsageError("--demo: a demo record comes from a throw-away demo database; leave out --db")
        return demo_records(args)
    ledger = open_ledger(resolve_db(args.sub_db or args.db))
    try:
        return _write_record(args, ledger)
    finally:
        ledger.store.close()


def demo_records(args: argparse.Namespace) -> int:
    """``print record``/``export fhir --demo``: a demo patient as the demo app shows it (the same
    seed and clock as :func:`run_app`), from a temporary database removed afterwards."""
    import shutil

    from bedside.core.clock import ScaledClock
    from bedside.core.demo import DEMO_KEY, seed
    from bedside.core.service import Ledger

    tmp = demo_tmpdir()
    try:
        with _removed_on_signal(tmp):
            store = open_store(Path(tmp) / "demo.db")
            try:
                clock = ScaledClock(args.speed or 60.0)
                seed(store, clock)
                return _write_record(args, Ledger(store, clock, DEMO_KEY), demo=True)
            finally:
                store.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _write_record(args: argparse.Namespace, ledger, demo: bool = False) -> int:
    p = next((p for p in ledger.patients() if p.mrn.upper() == args.mrn.strip().upper()), None)
    if p is None:
        hint = f" (demo patients: {', '.join(sorted(q.mrn for q in ledger.patients()))})" if demo else ""
        print(f"bedside: no patient with MRN {args.mrn!r}{hint}", file=sys.stderr)
        return 1
    view = ledger.view(p.id)  # the patient's projection: the same folds the screens read
    now, tz = ledger.clock.now(), ledger.zone.zone  # the site's zone (its setting, else BEDSIDE_TZ, else the system's)
    try:
        if args.command == "print" and args.what == "label":
            return _write_label(view, args.cycle, args.day, now, tz, args.format)
        if args.command == "print":
            from bedside.core import records

            sys.stdout.write(records.record_for(view, cycle=args.cycle, tz=tz, now=now))
        else:
            from bedside.core import fhir
            from bedside.core.text import json_inert

            # C1 controls and bidi overrides in stored text leave as \u escapes: same JSON, inert.
            site = ledger.site()
            options = fhir.FhirOptions(
                transaction=not args.collection,
                mrn_system=site.fhir_mrn_system,
                rxnorm_code=site.fhir_rxnorm_code,
                wristband_system=site.fhir_wristband_system,
            )
            sys.stdout.write(json_inert(fhir.to_json(fhir.bundle_for(view, now=now, tz=tz, options=options))) + "\n")
    except ValueError as exc:  # a --cycle that is not on the timeline: a bad argument, in one line
        print(f"bedside: {exc}", file=sys.stderr)
        return 2
    return 0


def _write_label(view, cycle: int, day: int, now, tz, form: str = "text") -> int:
    """``print label MRN --cycle N --day D [--format F]``: the dose's bag label
    (core/preparation/baglabel.py) as text, SVG or ZPL (tui/labelprint.py), stored text inert."""
    from bedside.core.preparation import baglabel, dose_id
    from bedside.core.text import printable

    st = view.prep(dose_id(cycle, day))
    lines = baglabel.label_lines(view.patient, st, now, tz)
    label = baglabel.current(view.patient.id, st)
    if not lines or label is None:
        print(f"bedside: {printable(view.patient.mrn)} C{cycle} D{day}: no bag (its dilution is not recorded)", file=sys.stderr)
        return 2
    if form == "text":
        sys.stdout.write("".join(printable(line) + "\n" for line in lines))
    else:
        from . import labelprint

        sys.stdout.write(labelprint.RENDERERS[form](lines, label.code))
    return 0


def _check_zone_env() -> None:
    """An invalid ``$BEDSIDE_TZ`` stops the start with one line (CONV-TIME-1), not a traceback."""
    from bedside.core.clock import env_zone

    try:
        env_zone()
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _databases(args: argparse.Namespace) -> list:
    """The stores this command will open, each with where it was named (none for calc, serve
    and the demo)."""
    command = getattr(args, "command", None)
    if command in ("calc", "serve") or (command is None and args.demo):
        return []
    if command in ("print", "export") and (args.demo or args.sub_demo):
        return []
    if command == "db" and getattr(args, "db_command", None) == "copy":
        return [("SRC", args.src), ("DST", args.dst)]
    given = getattr(args, "sub_db", None) or args.db
    return [("--db" if given else "$BEDSIDE_DB", resolve_db(given))]


def _check_pg_driver(args: argparse.Namespace) -> None:
    """A ``postgresql://`` store without psycopg installed: one line saying what to install."""
    from bedside.tui.dbcli import is_pg_url

    names = [name for name, db in _databases(args) if is_pg_url(db)]
    if not names:
        return
    try:
        import psycopg  # noqa: F401 - only whether it can be imported
    except ImportError:
        raise UsageError(f"{names[0]}: a postgresql:// database needs psycopg: pip install -e '.[pg]'") from None


def _set_anchors(args: argparse.Namespace) -> None:
    """Every store this command opens keeps the anchors of ``--anchor`` and ``$BEDSIDE_ANCHOR``
    too (never a demo's: its throw-away log must not move a real anchor)."""
    import os

    from bedside.tui.dbcli import set_extra_anchors

    given = [p for p in os.environ.get("BEDSIDE_ANCHOR", "").split(os.pathsep) if p.strip()] + list(args.anchor)
    set_extra_anchors(given if _databases(args) else [])


def _store_error() -> type[Exception]:
    from bedside.core.store import StoreError

    return StoreError


def _one_line(exc: BaseException) -> str:
    """The error as one line that cannot drive the terminal (argv is echoed: "\\x1b" shows as such)."""
    from bedside.core.text import printable

    if isinstance(exc, OSError) and exc.strerror:
        text = f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    else:
        text = str(exc) or type(exc).__name__
    return printable(text, escapes=True)


def main(argv: list[str] | None = None) -> int:
    # Byte-compile Bedside's modules once and reuse them, as a regular install does when it is
    # installed. An editable install run with PYTHONDONTWRITEBYTECODE=1 would otherwise recompile
    # ~15,000 lines at every start: +20 ms to the first screen and +3 MB (bench/README.md).
    # (The caches go to the gitignored __pycache__ folders; a read-only install is left alone.)
    sys.dont_write_bytecode = False
    try:
        args = build_parser().parse_args(argv)
        _check_zone_env()
        _check_pg_driver(args)
        args.mouse = mouse_wanted(args) if args.command is None else True
        _set_anchors(args)
        if args.command == "calc":
            return cmd_calc(args)
        if args.command in ("print", "export"):
            return cmd_records(args)
    except UsageError as exc:
        print(f"bedside: {_one_line(exc)}", file=sys.stderr)
        return 2
    except (_store_error(), OSError) as exc:  # a --db that cannot be opened: one line, no traceback
        print(f"bedside: {_one_line(exc)}", file=sys.stderr)
        return 2
    return _run_command(args)


def _run_import(args: argparse.Namespace) -> int:
    from bedside.tui.labscli import run_import_command

    try:
        return run_import_command(args, resolve_db(args.sub_db or args.db))
    except (UsageError, _store_error(), OSError) as exc:  # one line, no traceback
        print(f"bedside: {_one_line(exc)}", file=sys.stderr)
        return 2


def _run_command(args: argparse.Namespace) -> int:
    """The subcommands that open a database (or serve the demo), and the app itself."""
    if args.command == "verify-log":
        return cmd_verify_log(resolve_db(args.sub_db or args.db), args.sub_anchor, args.roles, args.incremental)
    if args.command in ("key", "anchor"):
        from bedside.tui.keycli import run_key_command

        return run_key_command(args, resolve_db(args.sub_db or args.db))
    if args.command == "serve":
        from bedside.tui.serve import run_serve

        return run_serve(args)
    if args.command == "users":
        from bedside.tui.userscli import run_users_command

        return run_users_command(args)
    if args.command == "ward":
        from bedside.tui.wardcli import run_ward_command

        return run_ward_command(args)
    if args.command == "import":
        return _run_import(args)
    if args.command == "db":
        from bedside.tui.dbcli import run_db_command

        return run_db_command(args)
    return run_app(args)


if __name__ == "__main__":
    sys.exit(main())
