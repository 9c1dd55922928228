"""The log's integrity as the app sees it (issue 18): the events the ledger refused to apply, the
other findings of the log's checker, the store's protections, and an admin's acknowledgement.

Modules: ``events`` (``log.report_seen``), ``report`` (:class:`Integrity`, the value the ledger
gives the screens), ``commands`` (:class:`AcknowledgeIntegrityReport`, admins only).
"""

from __future__ import annotations

from .commands import AcknowledgeIntegrityReport, RecordAnchorReset, RecordKeyRotation, decide_acknowledge
from .events import LOG_STREAM, AnchorsReset, KeyRotated, ReportSeen
from .report import Integrity, LogFinding, Seen, latest_seen

__all__ = [
    "LOG_STREAM",
    "AcknowledgeIntegrityReport",
    "AnchorsReset",
    "Integrity",
    "KeyRotated",
    "LogFinding",
    "RecordAnchorReset",
    "RecordKeyRotation",
    "ReportSeen",
    "Seen",
    "decide_acknowledge",
    "latest_seen",
]
