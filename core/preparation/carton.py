"""A scanned vial carton (issue 20): the GS1 DataMatrix on each BESPONSA carton, read by a
keyboard-wedge scanner as for wristbands (core/scan.py), split with ``biip``.

The code must carry the GTIN (AI 01), the lot (AI 10) and the expiry date (AI 17; day 00 is the
month's last day, as GS1 says); the serial number (AI 21) is kept when present. Pure: the checks
that need the date or the site's recall list take them as arguments.

Which product: the carton's GTIN must hold this product's NDC (PREP-1, SUP-1: 0008-0100-01, one
vial per carton). A US drug's GTIN-14 is a packaging digit, ``03`` and the 10-digit NDC, then the
GS1 check digit (the GS1 US convention for NDCs in GTINs); any other GTIN is a wrong product.
"""

from __future__ import annotations

from datetime import date

from attrs import frozen

from .. import rules
from ..scan import GS, GS1_AIM, gs1_check_digit_ok, without_aim

GTIN_AI, LOT_AI, EXPIRY_AI, SERIAL_AI = "01", "10", "17", "21"
NDC_DIGITS = rules.NDC.replace("-", "")  # 4-4-2: 0008010001
MAX_CODE_CHARS = 200  # a software limit: a GS1 DataMatrix on a carton is far shorter


@frozen
class Carton:
    gtin: str
    lot: str
    expiry: date
    serial: str = ""


def product_gtin(gtin: str) -> bool:
    """The GTIN holds this product's NDC (PREP-1, SUP-1) and its check digit is right."""
    g = gtin.zfill(14)
    return len(g) == 14 and gs1_check_digit_ok(g) and g[1:3] == "03" and g[3:13] == NDC_DIGITS


def _fields(raw: str) -> dict[str, object] | str:
    import biip

    try:
        result = biip.parse(raw)
    except Exception as exc:  # noqa: BLE001 - biip raises several kinds on malformed codes: a refused scan
        return f"not a readable GS1 code ({type(exc).__name__}): scan the carton again"
    msg = result.gs1_message
    if msg is None:
        return "not a readable GS1 code: scan the carton's DataMatrix (not its linear barcode) again"
    out: dict[str, object] = {}
    for e in msg.element_strings:
        out[e.ai.ai] = e.date if e.ai.ai == EXPIRY_AI else e.value
    return out


def read_carton(text: str) -> Carton | str:
    """The carton in a scanned code, or why it cannot be used (the product check is here; the
    expiry against today and the recall list are :func:`refusal`'s)."""
    raw = (text or "").strip("\r\n")
    if not raw.strip():
        return "scan the carton's DataMatrix"
    if len(raw) > MAX_CODE_CHARS:
        return f"longer than a carton's code ({len(raw)} characters): scan it again"
    if GS not in raw and not raw.startswith("]") and not raw.startswith(GTIN_AI):
        return "not a GS1 carton code (no GTIN, AI 01): scan the carton's DataMatrix"
    if not raw.startswith(GS1_AIM):
        raw = without_aim(raw)  # a plain symbology's prefix (]C0 …): the element string follows
    fields = _fields(raw)
    if isinstance(fields, str):
        return fields
    gtin, lot, expiry = fields.get(GTIN_AI), fields.get(LOT_AI), fields.get(EXPIRY_AI)
    missing = [name for name, v in (("GTIN (AI 01)", gtin), ("lot (AI 10)", lot), ("expiry (AI 17)", expiry)) if not v]
    if missing:
        return f"the code has no {', no '.join(missing)}: scan the carton's DataMatrix"
    assert isinstance(gtin, str) and isinstance(lot, str) and isinstance(expiry, date)
    if not gs1_check_digit_ok(gtin.zfill(14)):
        return f"the GTIN {gtin} fails its check digit: scan the carton again"
    if not product_gtin(gtin):
        return f"wrong product: GTIN {gtin} is not BESPONSA {rules.NDC} (PREP-1, SUP-1); do not use this carton"
    return Carton(gtin.zfill(14), lot, expiry, str(fields.get(SERIAL_AI) or ""))


def refusal(carton: Carton, today: date, recalled: tuple[str, ...]) -> str | None:
    """Why this carton must not be used today (expired; a lot on the site's recall list), or None.
    A carton is usable through its expiry date and not after it (GS1 AI 17)."""
    if carton.expiry < today:
        return f"expired: lot {carton.lot} expired on {carton.expiry.isoformat()}; do not use it, take another carton"
    if carton.lot.casefold() in {r.casefold() for r in recalled}:
        return f"recalled: lot {carton.lot} is on the site's recall list; do not use it, quarantine the carton"
    return None
