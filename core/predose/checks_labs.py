"""Identity (two identifiers) and the labs for this dose (PRE-4, PRE-5, CONV-LAB-5, CONV-CALC-7)."""

from __future__ import annotations

from typing import Any

from .base import _Base
from .reading import _LIVER, _LIVER_LABEL, _dec, _latest, _latest_any, _liver_of, _Rec, _title, _Window
from .results import R_HOLD, R_INFO, R_MISSING, R_PASS, _plain, _ratio_text

_TX_UNKNOWN = {False: " (transfusion status not recorded)", True: " (transfusion before it: not answered, T)"}
_COUNT_WORDS = {"anc": "an ANC", "platelets": "a platelet count"}
_IDENTITY_MISSING = "Confirm at least two identifiers (name, date of birth, MRN) against the patient at this dose."


def _norm(s: str) -> str:
    return " ".join(s.split()).casefold()


def _source(r: _Rec) -> str:
    """Where a result came from, for a result the laboratory system sent (issue 20); typed ones say nothing more."""
    d = r.data
    if d.get("source") != "laboratory":
        return ""
    return f"; from the laboratory ({d.get('sender') or 'sender unknown'}, message {d.get('message_id') or '?'})"


class LabChecks(_Base):
    # -- identity --------------------------------------------------------------------------
    def _identifier_matches(self) -> tuple[list[str], list[str]]:
        """The identifiers typed or scanned at this dose that match the record, and those that do not."""
        ic = self.rec.identity_check
        matched: list[str] = []
        mismatched: list[str] = []
        pairs = (
            ("name", ic.name, self.rec.name, lambda a, b: _norm(a) == _norm(b)),
            ("date of birth", ic.dob, self.rec.dob, lambda a, b: a == b),
            ("wristband GSRN", ic.wristband, self.rec.wristband, lambda a, b: a == b),  # a GS1 wristband (issue 20)
        )
        for label, entered, stored, same in pairs:
            if entered in (None, "") or stored in (None, ""):
                continue
            (matched if same(entered, stored) else mismatched).append(label)
        if ic.mrn not in (None, ""):  # a plain code or typed text: the MRN, or the wristband's site identifier
            if _norm(ic.mrn) == _norm(self.rec.mrn or ""):
                matched.append("MRN")
            elif self.rec.wristband and _norm(ic.mrn) == _norm(self.rec.wristband):
                matched.append("wristband ID")
            elif self.rec.mrn:
                mismatched.append("MRN")
        if ic.stated is not None:  # stated by the patient, compared by the user with the record shown
            stated = [label for label in ("name", "date of birth") if label not in matched + mismatched]
            (matched if ic.stated == "match" else mismatched).extend(f"{label} (stated)" for label in stated)
        return matched, mismatched

    def identity(self) -> None:
        ic = self.rec.identity_check
        key, name = "identity", "Patient identity (two identifiers)"
        if ic is None:
            self.add(key=key, name=name, result=R_MISSING, value="not confirmed at this dose", action=_IDENTITY_MISSING)
            return
        matched, mismatched = self._identifier_matches()
        value = f"{ic.method} by {ic.user}: matched {', '.join(matched) or 'none'}"
        if mismatched:
            self.add(
                key=key,
                name=name,
                result=R_HOLD,
                value=value + f"; MISMATCH {', '.join(mismatched)}",
                action="Stop: an identifier does not match this patient. Check the patient and the record; no override.",
            )
        elif len(matched) < 2:
            self.add(key=key, name=name, result=R_MISSING, value=value, action=_IDENTITY_MISSING)
        else:
            self.add(key=key, name=name, result=R_PASS, value=value, action="")

    # -- labs for this dose -----------------------------------------------------------------
    def _missing_lab_text(self, key: str, in_window: _Rec | None) -> str:
        if in_window is not None:
            return f"{in_window.on.isoformat()}: no ULN recorded with the result (CONV-CALC-7)"
        older = _latest(self.labs, key, _Window(None, self.window.until)) if self.window else None
        newer = _latest_any(self.labs, key)
        if self.window is None:
            return "previous dose date unknown: recency cannot be judged (CONV-LAB-5)"
        parts = []
        if older is not None:
            parts.append(f"latest {older.on.isoformat()} is too old: must be {self.window.text()}")
        if newer is not None and newer.on > self.window.until:
            parts.append(f"{newer.on.isoformat()} is after this dose")
        return "; ".join(parts) or "none recorded"

    def _where(self) -> str:
        return self.window.text() if self.window else "after the previous dose"

    def _counts_present(self, found: dict[str, Any]) -> None:
        """Counts (PRE-4)."""
        w = self.window
        for key, label in (("anc", "ANC"), ("platelets", "Platelets")):
            r = _latest(self.labs, key, w) if w else None
            rules_ = ("PRE-4", "CONV-LAB-5")
            if r is None:
                self.add(
                    key=f"lab.{key}",
                    name=f"{label} for this dose",
                    result=R_MISSING,
                    value=self._missing_lab_text(key, None),
                    rule_ids=rules_,
                    action=f"Enter {_COUNT_WORDS[key]} collected {self._where()}.",
                )
                continue
            v = _dec(r.data[key])
            assert v is not None
            extra = ""
            if key == "platelets":
                tx = r.data.get("platelet_transfusion")
                extra = (
                    " (after a platelet transfusion)"
                    if tx == "yes"
                    else ("" if tx == "no" else _TX_UNKNOWN[r.data.get("source") == "laboratory"])
                )
            found[key] = r
            self.add(
                key=f"lab.{key}",
                name=f"{label} for this dose",
                result=R_PASS,
                value=f"{label} {_plain(v)} × 10⁹/L on {r.on.isoformat()}{extra}{_source(r)}",
                date_used=r.on,
                rule_ids=rules_,
            )

    def _liver_present(self, found: dict[str, Any]) -> None:
        """Liver (PRE-5): a result without its ULN counts as missing (CONV-CALC-7)."""
        w = self.window
        for key in _LIVER:
            label = _LIVER_LABEL[key]
            r = _latest(self.labs, key, w) if w else None
            lv = _liver_of(r, key)
            rules_ = ("PRE-5", "CONV-LAB-5", "CONV-CALC-7")
            if lv is None:
                text = self._missing_lab_text(key, r)
                self.add(
                    key=f"lab.{key}",
                    name=f"{_title(label)} for this dose",
                    result=R_MISSING,
                    value=text,
                    rule_ids=rules_,
                    date_used=r.on if r else None,
                    action=f"Enter {label} with its ULN (same unit), collected {self._where()}.",
                )
                continue
            found[key] = lv
            self.add(
                key=f"lab.{key}",
                name=f"{_title(label)} for this dose",
                result=R_PASS,
                value=f"{label} {_plain(lv.value)} {lv.unit} (ULN {_plain(lv.uln)}; {_ratio_text(lv.value, lv.uln)} × ULN) "
                f"on {lv.on.isoformat()}{_source(r)}",
                date_used=lv.on,
                rule_ids=rules_,
            )

    def _alp_shown(self) -> None:
        """ALP: recorded and shown (PRE-5), never decides."""
        r = _latest(self.labs, "alp", self.window) if self.window else None
        alp = _liver_of(r, "alp")
        if alp is not None:
            self.add(
                key="lab.alp",
                name="ALP (shown)",
                result=R_INFO,
                value=f"ALP {_plain(alp.value)} U/L (ULN {_plain(alp.uln)}; {_ratio_text(alp.value, alp.uln)} × ULN) "
                f"on {alp.on.isoformat()}",
                date_used=alp.on,
                rule_ids=("PRE-5",),
            )
        else:
            self.add(
                key="lab.alp",
                name="ALP (shown)",
                result=R_INFO,
                value="not recorded for this dose",
                rule_ids=("PRE-5",),
                action="Record ALP with its ULN if available (PRE-5); it does not block.",
            )

    def labs_present(self) -> dict[str, Any]:
        """PRE-4/PRE-5 with CONV-LAB-5 and CONV-CALC-7: one check per required value."""
        found: dict[str, Any] = {}
        self._counts_present(found)
        self._liver_present(found)
        self._alp_shown()
        return found
