"""The start gate (issue 7, issue 15) lives in core/infusion/gate.py; this module keeps its old name.

New code asks the :class:`bedside.core.infusion.StartInfusion` decision (``ledger.decide``) instead.
"""

from __future__ import annotations

from .infusion.gate import StartGate, _dose_key, gate, prep_state, start_gate

__all__ = ["StartGate", "_dose_key", "gate", "prep_state", "start_gate"]
