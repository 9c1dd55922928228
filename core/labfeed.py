"""The laboratory feed (issue 20): files, a watched drop folder and an MLLP listener, each handing
every message to the ledger as commands (core/labs/commands.py).

For each message: find the patient by MRN (core/labs/check.py :func:`route`), send
:class:`ImportLabs`; when that is refused, or no patient matches, or the message cannot be read,
send :class:`QuarantineLabs` with the reason. Nothing here decides a clinical value.

- :func:`import_text` / :func:`import_paths`: one outcome per message.
- :func:`watch_once`: the drop folder. A file is claimed by renaming it (so two watchers never read
  it both), read, and moved into ``done/`` (its messages applied or quarantined) or left in
  ``failed/`` when the store could not take them (moved back for another try on the next pass).
- :class:`MllpServer`: HL7 over MLLP on a TCP address (loopback by default), one ACK per message:
  ``AA`` applied (or already recorded), ``AE`` kept in the quarantine (not applied: the reason in
  MSA-3), ``AR`` not kept (the store failed: the sender should send it again).
"""

from __future__ import annotations

import hashlib
import os
import socket
import socketserver
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from attrs import frozen

from .commands import Refused
from .labs import ImportLabs, LabMessage, QuarantineLabs, Unreadable, parse_any
from .labs.check import Problem, route
from .store_errors import StoreError

DONE_DIR, FAILED_DIR = "done", "failed"
CLAIM_SUFFIX = ".claimed"
MAX_FILE_BYTES = 8_000_000  # a software limit: a drop file larger than this is refused unread
START, END = b"\x0b", b"\x1c\r"  # MLLP framing


@frozen
class Outcome:
    """What became of one message: ``applied``, ``unchanged`` (already recorded or kept), or
    ``quarantined`` (kept with ``detail``, the reason)."""

    what: str
    message_id: str
    sender: str
    detail: str = ""
    records: int = 0

    def line(self) -> str:
        who = f"{self.message_id or '(no id)'} from {self.sender or '(unknown sender)'}"
        if self.what == "applied":
            return f"applied      {who}: {self.records} labs record{'s' if self.records != 1 else ''} ({self.detail})"
        if self.what == "unchanged":
            return f"unchanged    {who}: already recorded"
        return f"quarantined  {who}: {self.detail}"


def _quarantine(ledger: Any, msg: LabMessage | Unreadable, problem: Problem, source: str, actor: str) -> Outcome:
    stored = ledger.execute(QuarantineLabs.of(msg, problem.reason, problem.rules, source), actor)
    what = "quarantined" if stored else "unchanged"
    return Outcome(what, msg.message_id, msg.sender, problem.text)


def import_message(ledger: Any, msg: LabMessage | Unreadable, source: str, actor: str) -> Outcome:
    """Apply one message or keep it in the quarantine (StoreError propagates: nothing kept)."""
    if isinstance(msg, Unreadable):
        return _quarantine(ledger, msg, Problem(msg.reason), source, actor)
    ledger.refresh()
    pid = route(ledger.state().index, msg)
    if isinstance(pid, Problem):
        return _quarantine(ledger, msg, pid, source, actor)
    try:
        stored = ledger.execute(ImportLabs(pid, msg), actor)
    except Refused as exc:
        return _quarantine(ledger, msg, Problem(exc.refusal.message, exc.refusal.rules), source, actor)
    if not stored:
        return Outcome("unchanged", msg.message_id, msg.sender)
    mrn = ledger.entry(pid).mrn
    return Outcome("applied", msg.message_id, msg.sender, f"MRN {mrn}", len(stored))


def import_text(ledger: Any, text: str, source: str, actor: str) -> list[Outcome]:
    return [import_message(ledger, m, source, actor) for m in parse_any(text)]


def read_text(path: Path) -> str:
    """A drop file's text: UTF-8, else Latin-1 (HL7 v2 feeds often are; kept literally either way)."""
    data = path.read_bytes()
    if len(data) > MAX_FILE_BYTES:
        return f"\x00bedside: {path.name} is {len(data):,} bytes, over the {MAX_FILE_BYTES:,}-byte limit"
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def import_paths(ledger: Any, paths: Iterable[Path], actor: str) -> list[tuple[Path, list[Outcome]]]:
    return [(p, import_text(ledger, read_text(p), str(p), actor)) for p in paths]


def _claim(path: Path) -> Path | None:
    claimed = path.with_name(path.name + CLAIM_SUFFIX)
    try:
        os.rename(path, claimed)  # atomic: of two watchers, one wins
    except OSError:
        return None
    return claimed


def _unique(folder: Path, name: str) -> Path:
    target = folder / name
    n = 1
    while target.exists():
        target = folder / f"{name}.{n}"
        n += 1
    return target


def watch_once(ledger: Any, folder: Path, actor: str, settled_before: float | None = None) -> list[tuple[str, list[Outcome]]]:
    """One pass over the drop folder: every file not hidden, oldest first (see the module's text);
    with ``settled_before`` (a time.time() value), only files last changed before it (one still
    being written waits for the next pass)."""
    done, failed = folder / DONE_DIR, folder / FAILED_DIR
    for sub in (done, failed):
        sub.mkdir(mode=0o700, exist_ok=True)
    for waiting in sorted(failed.glob("*")):  # a store failure last time: try again
        os.replace(waiting, _unique(folder, waiting.name))
    files = sorted((p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")), key=_mtime)
    out = []
    for path in files:
        if path.name.endswith(CLAIM_SUFFIX) or (settled_before is not None and _mtime(path) > settled_before):
            continue
        claimed = _claim(path)
        if claimed is None:
            continue
        try:
            outcomes = import_text(ledger, read_text(claimed), path.name, actor)
        except (StoreError, OSError) as exc:
            os.replace(claimed, _unique(failed, path.name))
            out.append((path.name, [Outcome("failed", "", "", str(exc))]))
            continue
        os.replace(claimed, _unique(done, path.name))
        out.append((path.name, outcomes))
    return out


def _mtime(p: Path) -> float:
    try:
        return p.stat().st_mtime
    except OSError:
        return 0.0


# -- MLLP ---------------------------------------------------------------------------------------


def _esc(text: str) -> str:
    """HL7 v2 escapes for a field's text (the default delimiters)."""
    out = text.replace("\\", "\\E\\").replace("|", "\\F\\").replace("^", "\\S\\").replace("&", "\\T\\").replace("~", "\\R\\")
    return "".join(c if c.isprintable() else " " for c in out)[:200]


def ack(code: str, control_id: str, text: str, now: datetime, receiver: str = "BEDSIDE") -> str:
    """An HL7 v2.5.1 ACK for the message ``control_id``: AA, AE or AR with the reason."""
    stamp = now.astimezone(UTC).strftime("%Y%m%d%H%M%S+0000")
    ack_id = "A" + hashlib.sha256(f"{stamp}|{control_id}|{code}".encode()).hexdigest()[:19]
    msh = f"MSH|^~\\&|{receiver}||||{stamp}||ACK^R01^ACK|{ack_id}|P|2.5.1"
    return f"{msh}\rMSA|{code}|{_esc(control_id)}|{_esc(text)}\r"


def ack_for(outcome: Outcome) -> tuple[str, str]:
    if outcome.what in ("applied", "unchanged"):
        return "AA", outcome.line().split(": ", 1)[-1]
    return "AE", "kept in the Bedside quarantine, not applied: " + outcome.detail


def frames(buffer: bytearray) -> list[bytes]:
    """Take every complete MLLP frame (VT … FS CR) out of ``buffer``; bytes before a VT are dropped."""
    out = []
    while True:
        start = buffer.find(START)
        if start < 0:
            buffer.clear()
            return out
        end = buffer.find(END, start)
        if end < 0:
            del buffer[:start]
            return out
        out.append(bytes(buffer[start + 1 : end]))
        del buffer[: end + len(END)]


class MllpServer(socketserver.ThreadingTCPServer):
    """HL7 over MLLP: each connection's messages are imported one at a time (one lock for the
    ledger, which is not shared between threads otherwise) and each answered with its ACK."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], ledger: Any, actor: str, clock: Any, log: Any = None):
        self.ledger, self.actor, self.clock, self.log = ledger, actor, clock, log
        self.lock = threading.Lock()
        super().__init__(address, _MllpHandler)

    def handle_message(self, data: bytes, peer: str) -> bytes:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
        now = self.clock.now()
        messages = parse_any(text)
        control = messages[0].message_id if messages else ""
        try:
            with self.lock:
                outcomes = [import_message(self.ledger, m, f"mllp {peer}", self.actor) for m in messages]
        except StoreError as exc:
            return ack("AR", control, f"not kept: {exc}; send it again", now).encode("utf-8")
        if not outcomes:
            return ack("AR", control, "an empty frame", now).encode("utf-8")
        if self.log:
            for o in outcomes:
                self.log(o.line())
        worst = next((o for o in outcomes if o.what == "quarantined"), outcomes[0])
        code, text_ = ack_for(worst)
        return ack(code, control, text_, now).encode("utf-8")


class _MllpHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        server: MllpServer = self.server  # type: ignore[assignment]
        sock: socket.socket = self.request
        sock.settimeout(300)
        peer = f"{self.client_address[0]}:{self.client_address[1]}"
        buffer = bytearray()
        while True:
            try:
                chunk = sock.recv(65536)
            except (TimeoutError, OSError):
                return
            if not chunk:
                return
            buffer.extend(chunk)
            if len(buffer) > MAX_FILE_BYTES:
                return  # not an HL7 feed
            for frame in frames(buffer):
                reply = server.handle_message(frame, peer)
                try:
                    sock.sendall(START + reply + END)
                except OSError:
                    return
