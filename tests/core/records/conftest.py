"""Fixtures of the printed record's and the FHIR export's tests (tests/core/fhir/conftest.py uses them too)."""

from __future__ import annotations

from .scenario import demo_db  # noqa: F401 - a fixture
