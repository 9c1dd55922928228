"""The FHIR export's values (core/fhir/values.py): exact JSON numbers, UTC instants."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bedside.core import fhir


def test_amounts_are_exact_json_numbers():
    assert fhir.num(Decimal("1.45")) == 1.45 and json.dumps(fhir.num(Decimal("1.45"))) == "1.45"
    assert fhir.num("50.00") == 50 and isinstance(fhir.num("50.00"), int)
    assert fhir.num("0.375") == 0.375
    with pytest.raises(ValueError):
        fhir.num(Decimal("1.876018242034027888851223267376089096608"))
    with pytest.raises(ValueError):
        fhir.num("NaN")


def test_instants_are_utc():
    from zoneinfo import ZoneInfo

    oslo = datetime(2026, 3, 2, 10, 42, tzinfo=ZoneInfo("Europe/Oslo"))
    assert fhir.instant(oslo) == "2026-03-02T09:42:00Z"
    assert fhir.instant(datetime(2026, 3, 2, 9, 42, 0, 500000, tzinfo=UTC)) == "2026-03-02T09:42:00.500000Z"
    with pytest.raises(ValueError):
        fhir.instant(datetime(2026, 3, 2, 9, 42))
