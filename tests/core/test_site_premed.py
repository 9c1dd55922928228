"""The site's premedication protocol (PRE-1, PRE-2; issue 17): a site setting an admin records,
one row per class with the drug and its dose and route, folded into the site settings."""

from __future__ import annotations

import pytest

from bedside.core.commands import Refused
from bedside.core.site import PremedTemplate, SetSiteSetting, SiteSettings, check_setting

ROWS = [
    {"drug_class": "antihistamine", "drug": " cetirizine ", "dose": "10 mg PO"},
    {"drug_class": "corticosteroid", "drug": "dexamethasone", "dose": "8 mg IV"},
    {"drug_class": "antipyretic", "drug": "", "dose": ""},  # an empty row: none for this class
]


def test_the_value_recorded_is_one_row_per_class_in_class_order_without_empty_rows():
    assert check_setting("premed_protocol", ROWS) == [
        {"drug_class": "corticosteroid", "drug": "dexamethasone", "dose": "8 mg IV"},
        {"drug_class": "antihistamine", "drug": "cetirizine", "dose": "10 mg PO"},
    ]
    assert check_setting("premed_protocol", []) == []


@pytest.mark.parametrize(
    ("rows", "words"),
    [
        ([{"drug_class": "antipyretic", "drug": "paracetamol", "dose": ""}], "Antipyretic: both the drug"),
        ([{"drug_class": "antipyretic", "drug": "", "dose": "1 g PO"}], "Antipyretic: both the drug"),
        ([{"drug_class": "antiemetic", "drug": "ondansetron", "dose": "4 mg"}], "the classes are corticosteroid"),
        ([ROWS[1], ROWS[1]], "Corticosteroid: one row per class"),
        ([{"drug_class": "antipyretic", "drug": "x\x1b[31m", "dose": "1 g"}], "Antipyretic, drug"),
        ([{"drug_class": "antipyretic", "drug": "x"}], "the classes are"),  # not a row of the protocol
        ("dexamethasone", "a row per class"),
    ],
)
def test_a_bad_protocol_is_refused_naming_the_class(rows, words):
    with pytest.raises(ValueError, match=words):
        check_setting("premed_protocol", rows)


def test_an_admin_records_it_and_the_site_settings_hold_it(ledger):
    assert ledger.site().premed_protocol == ()
    with pytest.raises(Refused, match=r"Site settings: only an? admin"):
        ledger.execute(SetSiteSetting("premed_protocol", ROWS), "nina")
    (ev,) = ledger.execute(SetSiteSetting("premed_protocol", ROWS), "adam")
    assert ev.actor == "adam" and ev.payload.name == "premed_protocol"
    assert ledger.site().premed_protocol == (
        PremedTemplate("corticosteroid", "dexamethasone", "8 mg IV"),
        PremedTemplate("antihistamine", "cetirizine", "10 mg PO"),
    )
    with pytest.raises(Refused, match="Antipyretic: both"):
        ledger.execute(SetSiteSetting("premed_protocol", [{"drug_class": "antipyretic", "drug": "x", "dose": ""}]), "adam")


def test_a_stored_row_that_is_not_one_is_left_out_of_the_fold():
    s = SiteSettings(premed_protocol=[{"drug_class": "antipyretic", "drug": "p", "dose": "1 g"}, {"junk": 1}, "text", None])
    assert s.premed_protocol == (PremedTemplate("antipyretic", "p", "1 g"),)
    assert SiteSettings(premed_protocol="not a list").premed_protocol == ()
