from bedside.core.scan import read_identifier


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
