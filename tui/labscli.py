"""``bedside import labs``: laboratory results from files, a watched drop folder or an MLLP
listener (issue 20; the work is core/labfeed.py). The actor is the operating-system user running
it (``os:<name>``). One line per message: applied, unchanged (already recorded) or quarantined
with the reason. Exit status 0 when every message was applied or already recorded, 3 when any was
quarantined (an admin sees it in the Lab inbox), 2 on a usage or store error."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bedside.core.text import printable

QUARANTINED_RC = 3


def add_import_commands(sub) -> None:
    imp = sub.add_parser("import", help="import results from the laboratory system")
    imps = imp.add_subparsers(dest="what", metavar="WHAT", required=True)
    labs = imps.add_parser("labs", help="HL7 v2 ORU^R01 or FHIR R4 results: files, a drop folder, or MLLP")
    labs.add_argument("files", nargs="*", metavar="FILE", help="HL7 v2 (.hl7) or FHIR JSON files")
    labs.add_argument("--watch", metavar="DIR", help="watch a drop folder; each file is moved to DIR/done once read")
    labs.add_argument("--interval", type=float, default=2.0, metavar="S", help="seconds between passes of --watch")
    labs.add_argument("--once", action="store_true", help="with --watch: one pass, then stop")
    labs.add_argument("--mllp", metavar="[HOST:]PORT", help="listen for HL7 over MLLP (host 127.0.0.1 unless given)")
    labs.add_argument("--db", metavar="PATH", dest="sub_db")


def _address(text: str) -> tuple[str, int]:
    from bedside.tui.cli import UsageError

    host, _, port = text.rpartition(":")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"--mllp: [HOST:]PORT with a port from 1 to 65535; got {text!r}")
    return (host or "127.0.0.1"), int(port)


def _say(line: str) -> None:
    print(printable(line), flush=True)


def run_import_command(args: argparse.Namespace, db: Path) -> int:
    from bedside.tui.cli import UsageError, open_ledger
    from bedside.tui.userscli import os_actor

    modes = sum(bool(x) for x in (args.files, args.watch, args.mllp))
    if modes != 1:
        raise UsageError("import labs: give FILE..., or --watch DIR, or --mllp [HOST:]PORT (one of them)")
    missing = [f for f in args.files if not Path(f).is_file()]
    if missing:
        raise UsageError(f"import labs: no file {missing[0]}")
    if args.watch and not Path(args.watch).is_dir():
        raise UsageError(f"import labs --watch: no folder {args.watch}")
    address = _address(args.mllp) if args.mllp else None
    ledger, actor = open_ledger(db), os_actor()
    if args.files:
        return _files(ledger, actor, [Path(f) for f in args.files])
    if args.watch:
        return _watch(ledger, actor, Path(args.watch), args.interval, args.once)
    return _listen(ledger, actor, address)


def _files(ledger, actor: str, paths: list[Path]) -> int:
    from bedside.core import labfeed

    rc = 0
    for path, outcomes in labfeed.import_paths(ledger, paths, actor):
        for o in outcomes or [labfeed.Outcome("unchanged", "", "", "no message in the file")]:
            _say(f"{path.name}: {o.line()}")
            rc = QUARANTINED_RC if o.what == "quarantined" else rc
    return rc


def _watch(ledger, actor: str, folder: Path, interval: float, once: bool) -> int:
    from bedside.core import labfeed

    _say(f"Watching {folder} every {interval:g} s (files read go to {folder / labfeed.DONE_DIR}); ctrl+c stops.")
    try:
        while True:
            for name, outcomes in labfeed.watch_once(ledger, folder, actor):
                for o in outcomes:
                    _say(f"{name}: {o.line()}")
            if once:
                return 0
            time.sleep(max(0.2, interval))
    except KeyboardInterrupt:
        return 0


def _listen(ledger, actor: str, address) -> int:
    from bedside.core import labfeed

    server = labfeed.MllpServer(address, ledger, actor, ledger.clock, log=_say)
    _say(f"Listening for HL7 (MLLP) on {server.server_address[0]}:{server.server_address[1]}; ctrl+c stops.")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    print("stopped", file=sys.stderr)
    return 0
