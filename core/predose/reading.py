"""Reading the stored records: numbers and dates as stored, dated records, the CONV-LAB-5 window
of a dose, liver values with their ULN, and the toxicity terms."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from attrs import frozen

from .. import rules
from .inputs import DoseContext, PredoseSettings


def _dec(value: object) -> Decimal | None:
    """A stored number (str, int or Decimal); anything unreadable is None (= missing)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        raise TypeError("a stored number is a float (CONV-CALC-1: no binary float)")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            d = Decimal(text)
        except InvalidOperation:
            return None
        return d if d.is_finite() else None
    return None


def _date(value: object) -> date | None:
    if isinstance(value, datetime):
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


@frozen
class _Rec:
    """A dated record (lab panel, blasts, measurement) in recording order."""

    on: date
    order: tuple[int, int]
    data: dict[str, Any]


def _dated(records: Sequence[Mapping[str, Any]], date_key: str) -> tuple[_Rec, ...]:
    out = []
    for idx, r in enumerate(records):
        d = _date(r.get(date_key))
        if d is None:
            continue
        version = r.get("version")
        out.append(_Rec(d, (version if isinstance(version, int) and not isinstance(version, bool) else -1, idx), dict(r)))
    return tuple(sorted(out, key=lambda x: (x.on, x.order)))


@frozen
class _Window:
    """Which collection dates count: after ``after`` (exclusive), on or before ``until``, from ``oldest``."""

    after: date | None
    until: date
    oldest: date | None = None

    def contains(self, d: date) -> bool:
        if d > self.until:
            return False
        if self.after is not None and d <= self.after:
            return False
        return not (self.oldest is not None and d < self.oldest)

    def text(self) -> str:
        parts = []
        if self.after is not None:
            parts.append(f"after the previous dose ({self.after.isoformat()})")
        parts.append(f"on or before {self.until.isoformat()}")
        if self.oldest is not None:
            parts.append(f"not before {self.oldest.isoformat()} (site maximum age)")
        return ", ".join(parts)


def _dose_window(ctx: DoseContext, settings: PredoseSettings) -> _Window | None:
    """CONV-LAB-5: after the previous dose was given and not after this dose.

    Dates only: a result collected on the previous dose's date may have been drawn before that
    dose, so it does not count (strictly after). A result on this dose's date counts as pre-dose.
    """
    oldest = None
    if settings.max_lab_age_days is not None:
        oldest = ctx.planned_date - timedelta(days=settings.max_lab_age_days)
    if ctx.first:
        return _Window(None, ctx.planned_date, oldest)
    if ctx.previous_dose_date is None:
        return None
    return _Window(ctx.previous_dose_date, ctx.planned_date, oldest)


def _latest(recs: Sequence[_Rec], key: str, window: _Window | None, pred: Any = None) -> _Rec | None:
    best = None
    for r in recs:
        if _dec(r.data.get(key)) is None:
            continue
        if window is not None and not window.contains(r.on):
            continue
        if pred is not None and not pred(r):
            continue
        best = r
    return best


def _latest_any(recs: Sequence[_Rec], key: str) -> _Rec | None:
    return _latest(recs, key, None)


def _independent(r: _Rec) -> bool:
    """CONV-HEM-3: no platelet transfusion before this count (unknown counts as "yes")."""
    return r.data.get("platelet_transfusion") == "no"


def _unanswered(r: _Rec) -> bool:
    """A count the laboratory sent whose CONV-HEM-3 question nobody has answered yet (pre-dose T)."""
    return r.data.get("source") == "laboratory" and r.data.get("platelet_transfusion") in (None, "")


@frozen
class _Liver:
    value: Decimal
    uln: Decimal
    on: date
    unit: str


_LIVER = ("bilirubin", "ast", "alt")
_LIVER_LABEL = {"bilirubin": "total bilirubin", "ast": "AST", "alt": "ALT", "alp": "ALP"}


def _title(label: str) -> str:
    """A label at the start of a name: "Total bilirubin …", "AST …"."""
    return label[:1].upper() + label[1:]


def _unit(analyte: str, data: Mapping[str, Any]) -> str:
    if analyte == "bilirubin":
        return str(data.get("bilirubin_unit") or "(unit not recorded)")
    return "U/L"


def _liver_of(r: _Rec | None, analyte: str) -> _Liver | None:
    if r is None:
        return None
    v, u = _dec(r.data.get(analyte)), _dec(r.data.get(f"{analyte}_uln"))
    if v is None or u is None or u <= 0:
        return None
    return _Liver(v, u, r.on, _unit(analyte, r.data))


def _fmt_date(d: date | None) -> str:
    return d.isoformat() if d else "—"


_WORD = re.compile(r"[a-z]+")


def _term_key(term: str) -> str:
    return " ".join(term.split()).casefold()


def _is_vod(term: str) -> bool:
    t = _term_key(term)
    return any(m in t for m in rules.VOD_TERM_MARKERS) or any(w in rules.VOD_TERM_WORDS for w in _WORD.findall(t))


def _is_irr(term: str) -> bool:
    t = _term_key(term)
    return any(m in t for m in rules.IRR_TERM_MARKERS)


def _is_anaphylaxis(term: str) -> bool:
    t = _term_key(term)
    return any(m in t for m in rules.ANAPHYLAXIS_TERM_MARKERS)
