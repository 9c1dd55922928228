"""Admin: users (add, unlock) and site settings."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Header, Select, Static

from bedside.core import auth, rules
from bedside.core.calc import FORMULA_LABELS, FORMULAS
from bedside.core.clock import ZoneChoice, to_local
from bedside.core.site import WRISTBAND_SCHEMES, SetSiteSetting, check_setting

from ..palette import HEADER_ICON
from ..text import literal
from ..widgets.field import Choice, ErrorLine, Field
from ..widgets.keys import Keys


class UsersScreen(Screen):
    BINDINGS = [
        Binding("n", "add", "Add user"),
        Binding("u", "unlock", "Unlock"),
        Binding("escape", "back", "Back"),
    ]

    def compose(self) -> ComposeResult:
        yield Header(icon=HEADER_ICON)
        yield Static("Users", classes="screen-title")
        yield DataTable(id="users", cursor_type="row")
        yield Keys()

    def on_mount(self) -> None:
        t = self.query_one("#users", DataTable)
        t.add_columns("User", "Name", "Role", "Status")
        self.fill()
        self.set_focus(t)

    def fill(self) -> None:
        t = self.query_one("#users", DataTable)
        t.clear()
        for u in sorted(self.app.ledger.users().values(), key=lambda u: u.username):
            until = self.app.ledger.lock_ends(u.username)  # a lock lifts by itself (core/auth.py)
            status = f"LOCKED to {to_local(until):%H:%M:%S}" if until else ("inactive" if not u.active else "active")
            t.add_row(literal(u.username), literal(u.full_name), auth.ROLE_LABELS[u.role], status, key=u.username)

    def ledger_changed(self) -> None:
        self.fill()

    def action_add(self) -> None:
        self.app.push_screen(AddUserScreen(), lambda _r: self.fill())

    def action_unlock(self) -> None:
        t = self.query_one("#users", DataTable)
        if not t.row_count:
            return
        name = t.coordinate_to_cell_key(t.cursor_coordinate).row_key.value
        if self.app.ledger.lock_ends(name) is None:
            self.notify(f"{name} is not locked.")
            return
        self.app.ledger.execute(auth.UnlockUser(name), self.app.actor)  # admins only: decided in core
        self.notify(f"{name} unlocked.")
        self.fill()

    def action_back(self) -> None:
        self.app.pop_screen()


class AddUserScreen(ModalScreen[bool]):
    BINDINGS = [Binding("ctrl+s", "save", "Save"), Binding("escape", "cancel", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="box dialog"):
            yield Static("Add a user", classes="box-title")
            for fid, label, kw in (
                ("username", "User name", {"max_length": 32}),
                ("full_name", "Full name", {"max_length": 80}),
                ("pin", "PIN (4–8 digits)", {"password": True, "max_length": 8, "restrict": r"[0-9]*"}),
                ("pin_again", "PIN again", {"password": True, "max_length": 8, "restrict": r"[0-9]*"}),
            ):
                with Horizontal(classes="frow"):
                    yield Static(label, classes="flabel")
                    yield Field(id=fid, **kw)
                yield ErrorLine(id=f"e-{fid}")
                if fid == "full_name":
                    with Horizontal(classes="frow"):
                        yield Static("Role", classes="flabel")
                        yield Choice([(auth.ROLE_LABELS[r], r) for r in auth.ROLES], id="role")
                    yield ErrorLine(id="e-role")
        yield Keys()

    def on_input_submitted(self, event: Field.Submitted) -> None:
        event.stop()  # the field already moved the focus on

    def action_save(self) -> None:
        v = {f.id: f.value for f in self.query(Field)}
        role_sel = self.query_one("#role", Select)
        role = "" if role_sel.value is Select.NULL else str(role_sel.value)
        errors = auth.validate_new_user(
            v["username"].strip(), v["full_name"], role, v["pin"], v["pin_again"], self.app.ledger.users()
        )
        for fid in ("username", "full_name", "role", "pin", "pin_again"):
            self.query_one(f"#e-{fid}", ErrorLine).say(errors.get(fid, ""))
        if errors:
            self.set_focus(self.query_one(f"#{next(iter(errors))}"))
            return
        try:
            self.app.ledger.execute(auth.AddUser(v["username"].strip(), v["full_name"], role, v["pin"]), self.app.actor)
        except ValueError as exc:  # refused on the users log as it stands now (admins only; a name taken meanwhile)
            self.query_one("#e-username", ErrorLine).say(str(exc))
            return
        self.notify(f"User {v['username'].strip()} added.")
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)


def zone_hint(choice: ZoneChoice) -> str:
    """What the site's local times are in now, and where that came from (CONV-TIME-1)."""
    now = f"Times and dose days now in {choice.name} (from {choice.source})."
    return (
        f"⚠ {now} {choice.note[:1].upper()}{choice.note[1:]}." if choice.note else now
    ) + " Empty: $BEDSIDE_TZ, else the system's zone."


class SettingsForm(VerticalScroll, can_focus=False):
    """The settings, scrolled to the focused field when the terminal is short; never a tab stop itself."""


class SettingsScreen(Screen):
    BINDINGS = [Binding("ctrl+s", "save", "Save"), Binding("escape", "back", "Back")]

    def compose(self) -> ComposeResult:
        site = self.app.ledger.site()
        yield Header(icon=HEADER_ICON)
        yield Static("Site settings", classes="screen-title")
        with SettingsForm(id="settings"):
            with Horizontal(classes="frow"):
                yield Static("BSA formula", classes="flabel")
                yield Choice(
                    [(FORMULA_LABELS[f], f) for f in FORMULAS],
                    value=site.bsa_formula,
                    allow_blank=False,
                    id="bsa_formula",
                    compact=True,
                )
            yield Static("CONV-BSA-2: default Mosteller. Applies to new measurements; each stores its formula.", classes="hint")
            with Horizontal(classes="frow"):
                yield Static("Idle lock (minutes)", classes="flabel")
                yield Field(value=str(site.lock_minutes), id="lock_minutes", max_length=3, restrict=r"[0-9]*")
            yield ErrorLine(id="e-lock_minutes")
            with Horizontal(classes="frow"):
                yield Static("Site name", classes="flabel")
                yield Field(value=site.site_name, id="site_name", max_length=60)
            yield ErrorLine(id="e-site_name")
            with Horizontal(classes="frow"):
                yield Static("Bell on new alerts", classes="flabel")
                yield Choice([("On", True), ("Off", False)], value=site.bell, allow_blank=False, id="bell", compact=True)
            with Horizontal(classes="frow"):
                yield Static("Time zone (IANA)", classes="flabel")
                yield Field(value=site.time_zone, id="time_zone", max_length=64, restrict=r"[A-Za-z0-9/_+\-]*")
            yield ErrorLine(id="e-time_zone")
            yield Static(literal(zone_hint(self.app.ledger.zone)), id="zone-hint", classes="hint")
            yield from self._premed_rows(site)
            yield from self._fhir_rows(site)
            yield Static(
                "Wristband IDs (with each identity; matched at each scan): a GS1 GSRN, its check digit "
                "verified, or the site's own code.",
                classes="hint",
            )
            with Horizontal(classes="frow"):
                yield Static("Wristband IDs", classes="flabel")
                yield Choice(
                    [(label[:1].upper() + label[1:], key) for key, label in WRISTBAND_SCHEMES.items()],
                    value=site.wristband_scheme,
                    allow_blank=False,
                    id="wristband_scheme",
                    compact=True,
                )
            yield Static("A vial carton scanned from a recalled lot is refused at preparation (PREP-1).", classes="hint")
            with Horizontal(classes="frow"):
                yield Static("Recalled lots", classes="flabel")
                yield Field(
                    value=", ".join(site.recalled_lots), id="recalled_lots", max_length=4000, placeholder="lots, comma-separated"
                )
            yield ErrorLine(id="e-recalled_lots")
        yield Keys()

    def _fhir_rows(self, site) -> ComposeResult:
        """What the FHIR export carries from the site (issue 20): empty until an admin sets it."""
        yield Static("FHIR export: the site's codes; empty: none is sent (none is made up).", classes="hint")
        for name, label, value, restrict, hint in (
            ("fhir_mrn_system", "MRN system (URI)", site.fhir_mrn_system, r"[A-Za-z0-9:/._~%+\-]*", "urn:oid:… or https://…"),
            ("fhir_rxnorm_code", "RxNorm code (RxCUI)", site.fhir_rxnorm_code, r"[0-9]*", "digits, from the drug dictionary"),
            (
                "fhir_wristband_system",
                "Wristband system (URI)",
                site.fhir_wristband_system,
                r"[A-Za-z0-9:/._~%+\-]*",
                "urn:oid:… or https://…",
            ),
        ):
            with Horizontal(classes="frow"):
                yield Static(label, classes="flabel")
                size = 10 if name == "fhir_rxnorm_code" else 200
                yield Field(value=value, id=name, max_length=size, restrict=restrict, placeholder=hint)
            yield ErrorLine(id=f"e-{name}")

    def _checked_fields(self, names: tuple[str, ...]) -> dict[str, object] | None:
        """These settings as typed, each checked as core records it (None: one refused, said under it)."""
        values: dict[str, object] = {}
        for name in names:
            try:
                values[name] = check_setting(name, self.query_one(f"#{name}", Field).value)
            except ValueError as exc:
                self.query_one(f"#e-{name}", ErrorLine).say(str(exc))
                return None
            self.query_one(f"#e-{name}", ErrorLine).say("")
        return values

    def _premed_rows(self, site) -> ComposeResult:
        """The premedication protocol (PRE-1, PRE-2): a row per class, drug and dose and route."""
        protocol = {t.drug_class: t for t in site.premed_protocol}
        yield Static(
            "Premedication protocol (PRE-1, PRE-2): offered in the nurse's premedication form; "
            "nothing is recorded until the nurse saves it.",
            classes="hint",
        )
        for cls in rules.PREMED_CLASSES:
            t = protocol.get(cls)
            with Horizontal(classes="frow"):
                yield Static(cls.capitalize(), classes="flabel")
                for what, value, hint in (("drug", t.drug if t else "", "drug"), ("dose", t.dose if t else "", "dose and route")):
                    yield Field(value=value, placeholder=hint, id=f"pm-{cls}-{what}", max_length=80, classes="pm-field")
        yield ErrorLine(id="e-premed_protocol")

    def _premed_protocol(self) -> list | None:
        """The protocol as typed, checked as core records it (None: refused, said under the rows)."""
        rows = [
            {
                "drug_class": cls,
                "drug": self.query_one(f"#pm-{cls}-drug", Field).value,
                "dose": self.query_one(f"#pm-{cls}-dose", Field).value,
            }
            for cls in rules.PREMED_CLASSES
        ]
        try:
            value = check_setting("premed_protocol", rows)
        except ValueError as exc:
            self.query_one("#e-premed_protocol", ErrorLine).say(str(exc))
            return None
        self.query_one("#e-premed_protocol", ErrorLine).say("")
        return value

    def action_save(self) -> None:
        ledger = self.app.ledger
        site = ledger.site()
        minutes_text = self.query_one("#lock_minutes", Field).value.strip()
        if not minutes_text.isdigit() or not 1 <= int(minutes_text) <= 120:
            self.query_one("#e-lock_minutes", ErrorLine).say("Idle lock: a whole number of minutes from 1 to 120.")
            return
        self.query_one("#e-lock_minutes", ErrorLine).say("")
        # CONV-TIME-1: an IANA name; no control characters in a name every screen shows
        texts = self._checked_fields(("time_zone", "site_name"))
        if texts is None:
            return
        protocol = self._premed_protocol()
        if protocol is None:
            return
        codes = self._checked_fields(("fhir_mrn_system", "fhir_rxnorm_code", "fhir_wristband_system", "recalled_lots"))
        if codes is None:
            return
        new = {
            "bsa_formula": str(self.query_one("#bsa_formula", Select).value),
            "lock_minutes": int(minutes_text),
            "site_name": texts["site_name"],
            "bell": bool(self.query_one("#bell", Select).value),
            "time_zone": texts["time_zone"],
            "premed_protocol": protocol,
            "wristband_scheme": str(self.query_one("#wristband_scheme", Select).value),
            **codes,
        }
        as_recorded = ("premed_protocol", "recalled_lots")  # compared in the form they are recorded in
        now = {k: check_setting(k, getattr(site, k)) if k in as_recorded else getattr(site, k) for k in new}
        changed = [k for k, v in new.items() if now[k] != v]
        for k in changed:
            ledger.execute(SetSiteSetting(k, new[k]), self.app.actor)
        self.query_one("#zone-hint", Static).update(literal(zone_hint(ledger.zone)))
        self.notify(f"{len(changed)} setting{'' if len(changed) == 1 else 's'} saved." if changed else "Nothing changed.")

    def action_back(self) -> None:
        self.app.pop_screen()
