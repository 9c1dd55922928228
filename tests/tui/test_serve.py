"""`bedside serve --demo`: the demo in a web browser (textual-serve), opened in headless Chromium.

The browser is driven over the Chrome DevTools Protocol with aiohttp's websocket client (aiohttp
comes with textual-serve). Everything listens on and talks to 127.0.0.1 only; Chromium resolves
no other host name (the page's Google Fonts link fails at once instead of leaving the machine).

The page draws the terminal with xterm.js on a canvas, so the screen's text is not in the DOM,
and textual.js keeps its xterm ``Terminal`` in a closure. A script run before the page's own
catches the object when textual.js stores it (``this.terminal = new Terminal(...)``) and the test
reads the screen with xterm's public buffer API.

Skipped only when no Chromium binary is installed (``apt-get install chromium``; or set
BEDSIDE_CHROMIUM to a Chromium/Chrome binary). Any other failure fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from bedside.tui import serve

LOOPBACK = "127.0.0.1"
SIGN_IN_TIMEOUT = 30.0

# Runs in the page before textual.js: keeps every object assigned to a `.terminal` property
# (textual.js: `this.terminal = new Terminal(...)`) in window.__bedsideTerminals.
CATCH_TERMINAL_JS = """
Object.defineProperty(Object.prototype, "terminal", {
  configurable: true,
  get() { return undefined; },
  set(value) {
    Object.defineProperty(this, "terminal", {value, writable: true, configurable: true, enumerable: true});
    if (value && value.buffer && value.buffer.active) (window.__bedsideTerminals ||= []).push(value);
  },
});
"""

# The text of the terminal's screen, one line per row, or null before the terminal exists.
SCREEN_TEXT_JS = """
(() => {
  const terms = window.__bedsideTerminals || [];
  if (!terms.length) return null;
  const t = terms[terms.length - 1], b = t.buffer.active, rows = [];
  for (let y = 0; y < t.rows; y++) {
    const line = b.getLine(b.viewportY + y);
    rows.push(line ? line.translateToString(true) : "");
  }
  return rows.join("\\n");
})()
"""


def serve_argv() -> list[str]:
    """`bedside serve` through the CLI once it has the command, else the module itself."""
    from bedside.tui import cli

    try:
        cli.build_parser().parse_args(["serve", "--demo"])
    except (cli.UsageError, SystemExit):
        return [sys.executable, "-m", "bedside.tui.serve"]
    return [sys.executable, "-m", "bedside.tui.cli", "serve"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def stop_group(proc: subprocess.Popen) -> None:
    """Stop a process started with start_new_session=True, and its children (its group)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # children left behind in the group
    proc.wait(timeout=5)


def chromium_binary() -> str | None:
    explicit = os.environ.get("BEDSIDE_CHROMIUM")
    if explicit:
        return explicit
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


# --- the server --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`bedside serve --demo` on a free loopback port; yields (url, log path)."""
    port = free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*serve_argv(), "--demo", "--host", LOOPBACK, "--port", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://{LOOPBACK}:{port}/"
    try:
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None:
                pytest.fail(f"bedside serve exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"bedside serve did not answer on {url} in 20 s:\n{log.read_text(errors='replace')}")
            time.sleep(0.1)
        yield url, log
    finally:
        stop_group(proc)


# --- Chromium over the DevTools protocol ---------------------------------------------------------


class DevTools:
    """A minimal Chrome DevTools Protocol client on one aiohttp websocket (flat sessions)."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.next_id = 0
        self.pending: dict[int, asyncio.Future] = {}
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for msg in self.ws:
            data = json.loads(msg.data)
            future = self.pending.pop(data.get("id"), None)
            if future is not None and not future.done():
                future.set_result(data)
        for future in self.pending.values():
            if not future.done():
                future.set_exception(ConnectionError("DevTools websocket closed"))

    async def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        future = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = future
        await self.ws.send_str(json.dumps(message))
        reply = await asyncio.wait_for(future, 15)
        if "error" in reply:
            raise AssertionError(f"DevTools {method}: {reply['error']}")
        return reply["result"]

    async def close(self) -> None:
        await self.ws.close()
        self.reader.cancel()


@pytest.fixture
def chromium(tmp_path):
    """Headless Chromium listening for DevTools on loopback; yields its browser websocket URL."""
    binary = chromium_binary()
    if binary is None:
        reason = "Chromium is not installed (apt-get install chromium, or set BEDSIDE_CHROMIUM)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the browser test (.ci/run installs Chromium): {reason}")
        pytest.skip(reason)
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    log = tmp_path / "chromium.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                binary,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--disable-dev-shm-usage",
                # no name but loopback resolves: nothing leaves the machine (e.g. Google Fonts)
                f"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE {LOOPBACK}",
                f"--remote-debugging-address={LOOPBACK}",
                "--remote-debugging-port=0",  # Chromium picks a free port: DevToolsActivePort
                f"--user-data-dir={profile}",
                "--window-size=1280,800",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        active = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (active.exists() and len(active.read_text().splitlines()) >= 2):
            if proc.poll() is not None:
                pytest.fail(f"Chromium exited with {proc.returncode}:\n{log.read_text(errors='replace')[-4000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"Chromium wrote no DevToolsActivePort in 30 s:\n{log.read_text(errors='replace')[-4000:]}")
            time.sleep(0.05)
        port, path = active.read_text().splitlines()[:2]
        yield f"ws://{LOOPBACK}:{port}{path}"
    finally:
        stop_group(proc)


async def open_page(devtools: DevTools, url: str) -> str:
    """A new tab with the terminal catcher installed, navigated to url; returns its session id."""
    target = await devtools.send("Target.createTarget", {"url": "about:blank"})
    attached = await devtools.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})
    session = attached["sessionId"]
    await devtools.send("Page.enable", session=session)
    await devtools.send("Page.addScriptToEvaluateOnNewDocument", {"source": CATCH_TERMINAL_JS}, session=session)
    nav = await devtools.send("Page.navigate", {"url": url}, session=session)
    assert "errorText" not in nav, f"navigating to {url}: {nav['errorText']}"
    return session


async def screen_text(devtools: DevTools, session: str) -> str | None:
    result = await devtools.send("Runtime.evaluate", {"expression": SCREEN_TEXT_JS, "returnByValue": True}, session=session)
    if "exceptionDetails" in result:
        raise AssertionError(f"reading the terminal: {result['exceptionDetails']}")
    return result["result"].get("value")


async def test_demo_sign_in_screen_in_a_browser(served, chromium):
    import aiohttp

    url, server_log = served
    started = time.monotonic()
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(chromium, max_msg_size=0)
        devtools = DevTools(ws)
        try:
            session = await open_page(devtools, url)
            text = None
            while time.monotonic() - started < SIGN_IN_TIMEOUT:
                text = await screen_text(devtools, session)
                if text and "Sign in" in text and "Demo users:" in text:
                    break
                await asyncio.sleep(0.25)
            else:
                pytest.fail(
                    f"no sign-in screen in the browser within {SIGN_IN_TIMEOUT:.0f} s.\n"
                    + ("textual.js created no xterm terminal that the test could read" if text is None else f"screen:\n{text}")
                    + f"\nserver log:\n{server_log.read_text(errors='replace')[-4000:]}"
                )
        finally:
            await devtools.close()
    assert "DEMO" in text  # the title bar says it is the demo


# --- no browser needed --------------------------------------------------------------------------


async def test_websocket_from_another_site_is_refused(served):
    import aiohttp

    url, _log = served
    ws_url = url.replace("http://", "ws://") + "ws"
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(ws_url, origin="http://evil.example")
        assert refused.value.status == 403
        with pytest.raises(aiohttp.WSServerHandshakeError) as rebound:
            await http.ws_connect(ws_url, headers={"Host": f"evil.example:{url.rsplit(':', 1)[1].strip('/')}"})
        assert rebound.value.status == 403


@pytest.mark.parametrize("argv", [[], ["--db", "/tmp/ward.db"], ["--demo", "--db", "/tmp/ward.db"]])
def test_only_the_demo_is_served(argv):
    r = subprocess.run([*serve_argv(), *argv], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    assert r.stderr.strip() == serve.REFUSAL
    assert r.stdout == ""


def test_origin_check():
    hosts = serve.allowed_hosts("127.0.0.1", 8000, None)
    assert serve.origin_allowed("http://127.0.0.1:8000", "127.0.0.1:8000", hosts)
    assert serve.origin_allowed("http://localhost:8000", "127.0.0.1:8000", hosts)
    assert serve.origin_allowed(None, "127.0.0.1:8000", hosts)  # not a browser
    assert not serve.origin_allowed("http://evil.example", "127.0.0.1:8000", hosts)
    assert not serve.origin_allowed("null", "127.0.0.1:8000", hosts)
    assert not serve.origin_allowed("http://evil.example:8000", "evil.example:8000", hosts)  # DNS rebinding
    assert not serve.origin_allowed(None, None, hosts)
    behind_proxy = serve.allowed_hosts("0.0.0.0", 8000, "https://demo.example.org")
    assert serve.origin_allowed("https://demo.example.org", "demo.example.org", behind_proxy)


def test_textual_serve_is_not_imported_by_the_parser():
    code = (
        "import sys, argparse\n"
        "from bedside.tui.serve import add_serve_command\n"
        "add_serve_command(argparse.ArgumentParser().add_subparsers())\n"
        "assert 'textual_serve' not in sys.modules and 'aiohttp' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)


def test_app_command_runs_the_demo():
    cmd = serve.app_command(120)
    assert cmd.split()[-4:] == ["bedside.tui.cli", "--demo", "--speed", "120.0"]
    assert Path(sys.executable).name in cmd


def test_the_page_links_no_font_from_outside():
    """textual-serve's own page links Google Fonts; the page served here takes Roboto Mono from the
    fonts textual-serve ships (its static/fonts), and links nothing outside the server."""
    import re

    import textual_serve

    template = (Path(textual_serve.__file__).parent / "templates" / "app_index.html").read_text(encoding="utf-8")
    assert "fonts.googleapis.com" in template, "textual-serve's page changed: look at local_fonts_page again"
    page = serve.local_fonts_page(template)
    links = re.findall(r"(?:href|src)\s*=\s*\"([^\"]+)\"|url\(\"?([^\")]+)", page)
    urls = [a or b for a, b in links]
    assert urls and not [u for u in urls if re.match(r"(https?:)?//", u)], urls
    assert "fonts/RobotoMono-VariableFont_wght.ttf" in page
    for name in ("RobotoMono-VariableFont_wght.ttf", "RobotoMono-Italic-VariableFont_wght.ttf"):
        assert (Path(textual_serve.__file__).parent / "static" / "fonts" / name).is_file(), name


def test_the_served_page_fetches_its_font_from_the_server_itself(served):
    import re

    url, _log = served
    with urllib.request.urlopen(url, timeout=5) as r:
        page = r.read().decode()
    assert "googleapis" not in page and "https://" not in page
    font = re.search(r"url\(\"([^\"]+RobotoMono-VariableFont_wght\.ttf)\"\)", page).group(1)
    with urllib.request.urlopen(urllib.parse.urljoin(url, font), timeout=5) as r:
        assert r.status == 200 and len(r.read()) > 10_000
