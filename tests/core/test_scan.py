from hypothesis import given
from hypothesis import strategies as st

from bedside.core.scan import gs1_check_digit_ok, read_identifier

GSRN = "735005385000000011"  # GS1's own example GSRN (check digit 1)


def test_plain_barcode_is_its_text():
    s = read_identifier("MRN-100231")
    assert s.identifier == "MRN-100231" and not s.gs1


def test_gs1_wristband_gives_the_gsrn_patient_identifier():
    s = read_identifier("]C1" + "8018735005385000000011" + "\x1d" + "10ABC")
    assert s.gs1 and s.identifier == "735005385000000011"
    assert ("10", "ABC") in s.fields


def test_gs1_code_without_a_patient_field_is_refused():
    s = read_identifier("]C1" + "0109506000134352" + "\x1d" + "10LOT1")
    assert s.error and "8018" in s.error and s.identifier == ""


def test_a_gsrn_with_a_wrong_check_digit_is_refused_naming_it():
    for code in ("]d2" + "8018735005385000000012", "]C1" + "8018735005385000000010" + "\x1d" + "10ABC"):
        s = read_identifier(code)
        assert s.identifier == "" and s.error and "check digit" in s.error and "AI 8018" in s.error, code


def test_a_gsrn_scanned_with_or_without_a_symbology_prefix_gives_the_same_identifier():
    for code in ("]d2" + "8018" + GSRN, "]C1" + "8018" + GSRN, "]Q3" + "8018" + GSRN, "\x1d" + "8018" + GSRN):
        s = read_identifier(code)
        assert (s.identifier, s.error, s.gs1) == (GSRN, None, True), code


def test_a_plain_code_with_an_aim_prefix_matches_as_its_text():
    for prefix in ("]C0", "]d1", "]Q1", "]A0"):
        s = read_identifier(prefix + "MRN-100231\r")
        assert (s.identifier, s.gs1, s.error) == ("MRN-100231", False, None), prefix


def test_the_gs1_check_digit():
    assert gs1_check_digit_ok(GSRN) and gs1_check_digit_ok("09506000134352")  # GS1's example GTIN-14
    assert not gs1_check_digit_ok("735005385000000012") and not gs1_check_digit_ok("09506000134353")
    assert not gs1_check_digit_ok("") and not gs1_check_digit_ok("7") and not gs1_check_digit_ok("73x")


SCAN_LIKE = st.tuples(
    st.sampled_from(["", "]C1", "]d2", "]Q3", "]C0", "\x1d", "]"]),
    st.lists(
        st.one_of(
            st.sampled_from(["8018", "01", "10", "17", "21", "\x1d"]), st.text("0123456789", max_size=20), st.text(max_size=8)
        )
    ),
).map(lambda parts: parts[0] + "".join(parts[1]))


@given(st.one_of(st.text(max_size=60), SCAN_LIKE))
def test_no_scan_however_malformed_crashes_or_yields_an_identifier_with_an_error(text):
    s = read_identifier(text)
    assert isinstance(s.identifier, str)
    assert not (s.error and s.identifier)  # a refused scan never gives an identifier to compare


@given(st.from_regex(r"[0-9]{17}", fullmatch=True))
def test_exactly_one_check_digit_completes_any_gsrn_body(body):
    assert sum(gs1_check_digit_ok(body + str(d)) for d in range(10)) == 1
