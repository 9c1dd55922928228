"""Moved to :mod:`bedside.core.predose` (events, records, verdict). Kept only so modules that
still import ``bedside.core.predose_records`` keep working; import from ``bedside.core.predose``."""

from __future__ import annotations

from .predose import (  # noqa: F401
    BILI_CAUSE,
    CHECKLIST,
    ECG,
    ELECTROLYTES,
    IDENTITY,
    OVERRIDE,
    PREMED,
    QT_DRUG,
    TOX_RECORDED,
    TOX_RESOLVED,
    VERDICT,
    context_and_records,
    verdict,
)
