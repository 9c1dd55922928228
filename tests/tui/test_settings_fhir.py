"""The FHIR export's site codes on the Settings screen (issue 20): typed, checked as core records
them, refused naming the field and the form, and saved only when valid."""

from __future__ import annotations

from bedside.core.site import SITE_STREAM
from bedside.tui.widgets.field import ErrorLine, Field

from .test_settings_tz import _own_zone, open_settings  # noqa: F401 - _own_zone: the autouse fixture


async def _type_into(pilot, screen, field_id: str, text: str) -> None:
    """Focus the field by keyboard (shift+tab from the form's start), clear it, and type."""
    for _ in range(40):
        if screen.focused is screen.query_one(f"#{field_id}", Field):
            break
        await pilot.press("shift+tab")
    assert screen.focused is screen.query_one(f"#{field_id}", Field)
    await pilot.press("ctrl+u", *text)


async def test_a_bad_mrn_system_is_refused_naming_the_field_and_nothing_is_saved(app):
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_settings(app, pilot)
        before = app.ledger.version(SITE_STREAM)
        await _type_into(pilot, screen, "fhir_mrn_system", "urn:oid:9.9")
        await pilot.press("ctrl+s")
        await pilot.pause()
        error = str(screen.query_one("#e-fhir_mrn_system", ErrorLine).render())
        assert error.startswith("FHIR MRN system: an absolute URI"), error
        assert app.ledger.version(SITE_STREAM) == before and app.ledger.site().fhir_mrn_system == ""
        assert screen.query_one("#fhir_mrn_system", Field).value == "urn:oid:9.9"  # what was typed stays


async def test_the_mrn_system_and_rxnorm_code_are_saved_and_reach_the_export(app):
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_settings(app, pilot)
        await _type_into(pilot, screen, "fhir_mrn_system", "urn:oid:2.16.840.1.113883.19.5")
        await _type_into(pilot, screen, "fhir_rxnorm_code", "12x34")  # the field takes digits only
        assert screen.query_one("#fhir_rxnorm_code", Field).value == "1234"
        await pilot.press("ctrl+s")
        await pilot.pause()
        site = app.ledger.site()
        assert (site.fhir_mrn_system, site.fhir_rxnorm_code) == ("urn:oid:2.16.840.1.113883.19.5", "1234")
        assert str(screen.query_one("#e-fhir_mrn_system", ErrorLine).render()) == ""


async def test_the_wristband_scheme_and_system_are_saved_from_the_keyboard(app):
    """Issue 20: the site's wristband IDs (a GS1 GSRN or its own code) and their FHIR system."""
    from bedside.tui.widgets.field import Choice

    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_settings(app, pilot)
        await _type_into(pilot, screen, "fhir_wristband_system", "urn:oid:2.999.20.2")
        choice = screen.query_one("#wristband_scheme", Choice)
        assert choice.value == "gsrn"
        await pilot.press("tab")
        assert screen.focused is choice
        await pilot.press("t")  # type-to-select: "The site's own"
        assert choice.value == "site"
        await pilot.press("ctrl+s")
        await pilot.pause()
        site = app.ledger.site()
        assert (site.wristband_scheme, site.fhir_wristband_system) == ("site", "urn:oid:2.999.20.2")
