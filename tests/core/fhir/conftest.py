"""The FHIR export's tests use the printed record's demo fixture (tests/core/records/scenario.py)."""

from __future__ import annotations

from ..records.scenario import demo_db  # noqa: F401 - a fixture
