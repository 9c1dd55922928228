"""Issue 20, carton scans at preparation (core/preparation/carton.py, ScanCarton): the GS1
DataMatrix of each vial carton, with and without a symbology prefix; a wrong product, an expired
or recalled lot, a malformed code, a carton scanned twice and one carton too many are refused;
the lot and expiry are kept with the preparation. No scan, however malformed, crashes or records."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bedside.core import preparation as prep
from bedside.core.commands import Refusal, decide
from bedside.core.demo import seed
from bedside.core.preparation.carton import Carton, product_gtin, read_carton, refusal
from bedside.core.scan import GS, gs1_check_digit_ok
from bedside.core.service import Ledger
from bedside.core.site import SetSiteSetting

from .test_commands import calculated, refused
from .test_commands import st as prep_state


@pytest.fixture
def ward(store, clock, key) -> Ledger:
    seed(store, clock)
    return Ledger(store, clock, key)


GTIN = "00300080100011"  # 0 + 03 + NDC 0008-0100-01 + check digit


def with_check(body: str) -> str:
    return next(body + str(d) for d in range(10) if gs1_check_digit_ok(body + str(d)))


def code(gtin=GTIN, expiry="271231", lot="LOT-1A", serial="SER0001", prefix="]d2") -> str:
    text = f"{prefix}01{gtin}17{expiry}10{lot}"
    return text + (f"{GS}21{serial}" if serial else "")


def test_gtin_check_and_ndc():
    assert with_check("0030008010001") == GTIN
    assert product_gtin(GTIN) and product_gtin(with_check("5030008010001"))  # another packaging level
    assert not product_gtin(with_check("0030008010002"))  # another NDC
    assert not product_gtin("00300080100012")  # a wrong check digit


@pytest.mark.parametrize("prefix", ["]d2", "]C1", "", "]Q3"])
def test_a_carton_is_read_with_or_without_its_prefix(prefix):
    c = read_carton(code(prefix=prefix))
    assert c == Carton(GTIN, "LOT-1A", date(2027, 12, 31), "SER0001")


def test_day_00_is_the_months_last_day_and_serial_is_optional():
    c = read_carton(code(expiry="270200", serial=""))
    assert isinstance(c, Carton) and c.expiry == date(2027, 2, 28) and c.serial == ""


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (code(gtin=with_check("0030008099999")), "wrong product"),
        (code(gtin="00300080100012"), "fails its check digit"),
        ("]d20100300080100011", "no lot (AI 10), no expiry (AI 17)"),
        ("MRN-100231", "not a GS1 carton code"),
        ("]d2" + "01", "not a readable"),
        ("", "scan the carton"),
    ],
)
def test_bad_codes_say_why(text, words):
    got = read_carton(text)
    assert isinstance(got, str) and words in got


def test_expired_and_recalled():
    c = Carton(GTIN, "LOT-1A", date(2026, 3, 1))
    assert "expired" in refusal(c, date(2026, 3, 2), ())
    assert refusal(c, date(2026, 3, 1), ()) is None  # usable through its expiry date
    assert "recall list" in refusal(c, date(2026, 2, 1), ("lot-1a",))


def test_scans_are_recorded_and_refused_through_the_ledger(ward):
    pid = calculated(ward)
    vials = int(prep_state(ward, pid).calculation.data["vials"])
    refused(ward, prep.ScanCarton(pid, "c1d1", code(expiry="250101")), "phil", "expired")
    refused(ward, prep.ScanCarton(pid, "c1d1", code(gtin=with_check("0030008099999"))), "phil", "wrong product")
    refused(ward, prep.ScanCarton(pid, "c1d1", "not a code"), "phil", "not a GS1 carton code")
    refused(ward, prep.ScanCarton(pid, "c1d1", code() + "\x1b[2J"), "phil", "control characters")
    ward.execute(SetSiteSetting("recalled_lots", "X9, LOT-R"), "adam")
    refused(ward, prep.ScanCarton(pid, "c1d1", code(lot="LOT-R")), "phil", "recall list")
    ward.execute(prep.ScanCarton(pid, "c1d1", code(serial="S1")), "phil")
    refused(ward, prep.ScanCarton(pid, "c1d1", code(serial="S1")), "phil", "scanned already")
    for n in range(2, vials + 1):
        ward.execute(prep.ScanCarton(pid, "c1d1", code(serial=f"S{n}", lot="LOT-2B" if n > 1 else "LOT-1A")), "phil")
    refused(ward, prep.ScanCarton(pid, "c1d1", code(serial="S99")), "phil", "all scanned already")
    s = prep_state(ward, pid)
    assert [c.serial for c in s.cartons] == [f"S{n}" for n in range(1, vials + 1)]
    assert s.lots.startswith("lot LOT-1A exp 2027-12-31")
    refused(ward, prep.ScanCarton(pid, "c1d1", code(serial="S50")), "adam", "Carton scan")  # an admin does not prepare


def test_no_carton_before_the_calculation(ward):
    from .test_commands import pid_of

    pid = pid_of(ward, "MRN-100231")
    refused(ward, prep.ScanCarton(pid, "c1d1", code()), "phil", "calculate the dose first")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(st.text(max_size=80), st.builds(lambda s: "]d201" + s, st.text(max_size=60))))
def test_no_scan_crashes_or_records_an_unreadable_carton(ward, text):
    hartman = next(p.id for p in ward.patients() if p.mrn == "MRN-100231")
    if prep_state(ward, hartman).calculation is None:
        ward.execute(prep.CalculateDose(hartman, 1, 1), "phil")
    answer = decide(ward.state(), prep.ScanCarton(hartman, "c1d1", text), ward.clock.now(), ward.actor("phil"))
    if not isinstance(answer, Refusal):
        c = read_carton(text)
        assert isinstance(c, Carton) and product_gtin(c.gtin)
