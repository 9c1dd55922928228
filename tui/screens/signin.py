"""Sign-in, the first admin, and the idle lock."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Header, Static

from bedside.core import auth
from bedside.core.demo_users import DEMO_PIN, DEMO_USERS

from ..palette import HEADER_ICON
from ..text import literal
from ..widgets.field import ErrorLine, Field
from ..widgets.keys import Keys


class SignInScreen(Screen):
    """Who is at the terminal: user name and PIN."""

    BINDINGS = [Binding("enter", "sign_in", "Sign in", show=True, priority=False), Binding("ctrl+q", "app.quit", "Quit")]

    def compose(self) -> ComposeResult:
        yield Header(icon=HEADER_ICON)
        with Vertical(id="signin-box", classes="box"):
            yield Static("Sign in", classes="box-title")
            yield Static("User name", classes="flabel")
            yield Field(placeholder="user name", id="username", max_length=32)
            yield Static("PIN", classes="flabel")
            yield Field(placeholder="PIN", id="pin", password=True, max_length=8, restrict=r"[0-9]*")
            yield Static("", id="signin-message", classes="message")
            if self.app.demo:
                names = ", ".join(u for u, _n, _r in DEMO_USERS)
                yield Static(f"Demo users: {names} (PIN {DEMO_PIN})", classes="hint")
            yield Static("F1 lists the keys of any screen.", classes="hint")
        yield Keys()

    def on_mount(self) -> None:
        user = self.query_one("#username", Field)
        user.advance_on_enter = True
        self.set_focus(user)

    async def on_input_submitted(self, event: Field.Submitted) -> None:
        event.stop()
        if event.input.id == "pin":
            await self.run_action("sign_in")  # through the app's fault handling

    def action_sign_in(self) -> None:
        username = self.query_one("#username", Field).value.strip()
        pin_field = self.query_one("#pin", Field)
        message = self.query_one("#signin-message", Static)
        if not username:
            message.update("User name: required.")
            self.set_focus(self.query_one("#username", Field))
            return
        result = self.app.ledger.sign_in(username, pin_field.value)
        pin_field.value = ""
        if result.user is None:
            message.update(literal(result.message))
            self.set_focus(pin_field)
            return
        self.app.signed_in(result.user)


class FirstAdminScreen(Screen):
    """An empty database: create the first admin."""

    BINDINGS = [Binding("ctrl+s", "create", "Create admin")]

    def compose(self) -> ComposeResult:
        yield Header(icon=HEADER_ICON)
        with Vertical(id="admin-box", classes="box"):
            yield Static("New database: create the first admin", classes="box-title")
            for fid, label, kw in (
                ("username", "User name", {"max_length": 32}),
                ("full_name", "Full name", {"max_length": 80}),
                ("pin", "PIN (4–8 digits)", {"password": True, "max_length": 8, "restrict": r"[0-9]*"}),
                ("pin_again", "PIN again", {"password": True, "max_length": 8, "restrict": r"[0-9]*"}),
            ):
                yield Static(label, classes="flabel")
                yield Field(id=fid, **kw)
                yield ErrorLine(id=f"e-{fid}")
        yield Keys()

    async def on_input_submitted(self, event: Field.Submitted) -> None:
        event.stop()
        if event.input.id == "pin_again":
            await self.run_action("create")  # through the app's fault handling

    def action_create(self) -> None:
        values = {f.id: f.value for f in self.query(Field)}
        errors = auth.validate_new_user(
            values["username"].strip(), values["full_name"], "admin", values["pin"], values["pin_again"], self.app.ledger.users()
        )
        for fid in ("username", "full_name", "pin", "pin_again"):
            self.query_one(f"#e-{fid}", ErrorLine).say(errors.get(fid, ""))
        if errors:
            self.set_focus(self.query_one(f"#{next(iter(errors))}", Field))
            return
        username = values["username"].strip()
        try:  # only while the database has no user (decided in core): "system" creates the first admin
            self.app.ledger.execute(auth.CreateFirstAdmin(username, values["full_name"], values["pin"]), "system")
        except ValueError as exc:
            self.query_one("#e-username", ErrorLine).say(str(exc))
            return
        self.app.signed_in(self.app.ledger.users()[username])


class LockScreen(ModalScreen[bool]):
    """The idle lock: the screen below keeps its state; the PIN brings it back."""

    BINDINGS = [
        Binding("enter", "unlock", "Unlock"),
        Binding("f5", "switch_user", "Sign out / switch user"),
    ]

    def __init__(self, user):
        super().__init__()
        self.user = user

    def compose(self) -> ComposeResult:
        with Vertical(id="lock-box", classes="box"):
            yield Static("Locked", classes="box-title")
            yield Static(literal(f"{self.user.label} was idle. Enter the PIN to go on."))
            yield Field(placeholder="PIN", id="lock-pin", password=True, max_length=8, restrict=r"[0-9]*")
            yield Static("", id="lock-message", classes="message")
        yield Keys()

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#lock-pin", Field))

    async def on_input_submitted(self, event: Field.Submitted) -> None:
        event.stop()
        await self.run_action("unlock")  # through the app's fault handling

    def action_unlock(self) -> None:
        pin = self.query_one("#lock-pin", Field)
        ledger = self.app.ledger
        result = ledger.sign_in(self.user.username, pin.value)
        pin.value = ""
        if result.user is None:
            # This screen already shows whose account it is, so it may say the account is locked
            # and until when (the sign-in screen never does: core/auth.py SIGNIN_REFUSED).
            until = ledger.lock_ends(self.user.username)
            text = "Wrong PIN." if until is None else auth.lock_notice(until, ledger.zone.zone)
            self.query_one("#lock-message", Static).update(literal(text))
            return
        self.app.unlocked()
        self.dismiss(True)

    async def action_switch_user(self) -> None:
        await self.app.action_sign_out()
