"""`bedside serve --demo`: the demo in a web browser, for people giving demos (textual-serve).

Only the demo is ever served. Serving the real database would put patient data on plain HTTP
(no TLS) behind no sign-in of the web layer's own, where anyone who can reach the port starts a
session; so a serve without ``--demo`` is refused (exit 2).

Each browser tab that connects gets its own ``bedside --demo`` process, with its own throw-away
demo database. The default address is the loopback interface only. textual-serve itself is
imported inside :func:`run_serve`, so the other commands start as fast as before.

textual-serve's page links Google Fonts (Roboto Mono) although the package ships that font in its
own static files: the page served here loads it from there instead (:func:`local_fonts_page`), so a
demo fetches nothing from outside (a ward's network may not reach it, and it tells Google who
watched). The header's icon is a plain "+" (tui/palette.py HEADER_ICON): Textual's "⭘" is in
neither Roboto Mono nor the usual terminal fonts.
"""

from __future__ import annotations

import argparse
import ipaddress
import re
import shlex
import sys
from urllib.parse import urlsplit

TITLE = "Bedside demo — not for clinical use"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000

REFUSAL = (
    "bedside serve: only the demo can be served (add --demo): real patient data must not go over "
    "plain HTTP without TLS or a sign-in of its own"
)


def add_serve_command(subparsers) -> argparse.ArgumentParser:
    """Add ``serve`` to the ``bedside`` subcommands (``subparsers`` from ``add_subparsers``)."""
    s = subparsers.add_parser(
        "serve",
        help="serve the demo in a web browser (--demo only; loopback by default)",
        description=(
            "Serve the demo in a web browser, for demonstrations. Only --demo is served: real "
            "patient data is never put on plain HTTP (no TLS, no sign-in of the web layer), so "
            "without --demo this refuses and exits 2. Each browser tab gets its own throw-away "
            "demo database."
        ),
    )
    # dest names of their own: a subparser's defaults would otherwise overwrite the top-level
    # --demo/--db/--speed (so `bedside --demo serve` works too, and `bedside --db X serve` is refused).
    s.add_argument("--demo", action="store_true", dest="serve_demo", help="serve the demo (required)")
    s.add_argument(
        "--host",
        default=DEFAULT_HOST,
        metavar="ADDR",
        help=f"address to listen on (default {DEFAULT_HOST}: this computer only)",
    )
    from bedside.tui.cli import speed_value, whole_number  # ASCII digits, a range; no NaN/inf

    s.add_argument(
        "--port", type=whole_number(1, 65535), default=DEFAULT_PORT, metavar="N", help=f"TCP port (default {DEFAULT_PORT})"
    )
    s.add_argument(
        "--public-url",
        default=None,
        metavar="URL",
        help="the address browsers use, when it differs from http://HOST:PORT (e.g. listening on 0.0.0.0)",
    )
    s.add_argument(
        "--speed", type=speed_value, default=None, metavar="X", dest="serve_speed", help="demo clock speed (default 60)"
    )
    s.add_argument("--db", metavar="PATH", dest="serve_db", help="refused: a real database is never served")
    return s


#: textual-serve's <link> to Google Fonts (templates/app_index.html).
_FONT_LINK = re.compile(r"<link\s+rel=\"stylesheet\"\s+href=\"https://fonts\.googleapis\.com/[^\"]*\"\s*/?>", re.S)
#: The same font from the package's own static/fonts (a Jinja template: config.static.url is the page's).
_LOCAL_FONTS = """<link rel="preload" as="font" type="font/ttf" crossorigin
      href="{{ config.static.url }}fonts/RobotoMono-VariableFont_wght.ttf" />
    <style>
      @font-face {
        font-family: "Roboto Mono";
        src: url("{{ config.static.url }}fonts/RobotoMono-VariableFont_wght.ttf") format("truetype");
        font-weight: 100 700;
        font-style: normal;
      }
      @font-face {
        font-family: "Roboto Mono";
        src: url("{{ config.static.url }}fonts/RobotoMono-Italic-VariableFont_wght.ttf") format("truetype");
        font-weight: 100 700;
        font-style: italic;
      }
    </style>"""


def local_fonts_page(template: str) -> str:
    """textual-serve's page template with its Google Fonts link replaced by the bundled Roboto Mono."""
    return _FONT_LINK.sub(lambda _m: _LOCAL_FONTS, template)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def app_command(speed: float | None = None) -> str:
    """The shell command textual-serve runs for each browser session."""
    parts = [sys.executable, "-m", "bedside.tui.cli", "--demo"]
    if speed is not None:
        parts += ["--speed", repr(float(speed))]
    return shlex.join(parts)


def _netloc(scheme: str, netloc: str) -> str | None:
    """``host:port`` in lower case, the scheme's default port filled in; None if unusable."""
    try:
        parts = urlsplit(f"{scheme}://{netloc}")
        port = parts.port or {"http": 80, "https": 443, "ws": 80, "wss": 443}.get(scheme)
    except ValueError:
        return None
    if not parts.hostname or port is None:
        return None
    name = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{name}:{port}".lower()


def allowed_hosts(host: str, port: int, public_url: str | None) -> set[str]:
    """The ``host:port`` names under which the served page may be reached."""
    names = {host, "127.0.0.1", "localhost", "::1"} if _is_loopback(host) else {host}
    hosts = {_netloc("http", f"[{n}]:{port}" if ":" in n else f"{n}:{port}") for n in names}
    if public_url:
        parts = urlsplit(public_url)
        hosts.add(_netloc(parts.scheme, parts.netloc))
    hosts.discard(None)
    return hosts  # type: ignore[return-value]


def origin_allowed(origin: str | None, host_header: str | None, hosts: set[str]) -> bool:
    """A browser may open the app's websocket only from the served page itself.

    textual-serve checks no Origin: any web site open in the presenter's browser could otherwise
    start and drive sessions on ws://127.0.0.1:PORT/ws. The Host header is checked against the
    served names too, against DNS rebinding. A client that sends no Origin (not a browser) passes
    the Origin check.
    """
    if not host_header or not {_netloc("http", host_header), _netloc("https", host_header)} & hosts:
        return False
    if origin is None:
        return True
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and _netloc(parts.scheme, parts.netloc) in hosts


def _web_url(url: str) -> bool:
    """An http(s) address with a usable host (and port): what browsers could be sent to."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and _netloc(parts.scheme, parts.netloc) is not None


def _speed(args: argparse.Namespace) -> float | None:
    """The demo clock's speed: ``serve --speed``, else the top-level ``--speed``."""
    speed = getattr(args, "serve_speed", None)
    return getattr(args, "speed", None) if speed is None else speed


def _demo_server_class(hosts: set[str]):
    """textual-serve's Server, with the websocket's Origin and Host checked (:func:`origin_allowed`)
    and the page's fonts served from the package itself (:func:`local_fonts_page`). ImportError
    without textual-serve."""
    import aiohttp_jinja2
    import jinja2
    from aiohttp import web
    from textual_serve.server import Server

    class DemoServer(Server):
        async def handle_websocket(self, request: web.Request) -> web.StreamResponse:
            if not origin_allowed(request.headers.get("Origin"), request.headers.get("Host"), hosts):
                raise web.HTTPForbidden(text="bedside serve: websocket from another site refused")
            return await super().handle_websocket(request)

        async def _make_app(self) -> web.Application:
            app = await super()._make_app()
            page = local_fonts_page((self.templates_path / "app_index.html").read_text(encoding="utf-8"))
            aiohttp_jinja2.setup(app, loader=jinja2.DictLoader({"app_index.html": page}))
            return app

    return DemoServer


def run_serve(args: argparse.Namespace) -> int:
    demo = bool(getattr(args, "serve_demo", False) or getattr(args, "demo", False))
    # Any --db at all is refused, even an empty one: only the demo is served.
    db = getattr(args, "serve_db", None) is not None or getattr(args, "db", None) is not None
    if not demo or db:
        print(REFUSAL, file=sys.stderr)
        return 2
    speed = _speed(args)
    if speed is not None and not 0 < speed < float("inf"):
        print("bedside serve: --speed must be a positive number", file=sys.stderr)
        return 2
    if not 1 <= args.port <= 65535:
        print(f"bedside serve: --port: 1 to 65535, got {args.port}", file=sys.stderr)
        return 2
    if not args.host.strip() or any(ch.isspace() or not ch.isprintable() for ch in args.host):
        # An empty host would make the server listen on every interface, unasked.
        print(
            f"bedside serve: --host: an address or host name is required (default {DEFAULT_HOST}), got {args.host!r}",
            file=sys.stderr,
        )
        return 2
    if args.public_url is not None and not _web_url(args.public_url):
        print(
            f"bedside serve: --public-url: an http:// or https:// address is required, got {args.public_url!r}", file=sys.stderr
        )
        return 2
    if not _is_loopback(args.host):
        print(
            f"bedside serve: listening on {args.host}: anyone who can reach port {args.port} can open "
            "demo sessions (demo data only; plain HTTP)",
            file=sys.stderr,
        )
        if args.public_url is None:
            print(
                "bedside serve: other computers need --public-url http://NAME:PORT (the address they use)",
                file=sys.stderr,
            )

    try:
        server_class = _demo_server_class(allowed_hosts(args.host, args.port, args.public_url))
    except ImportError:
        print("bedside serve: needs textual-serve: pip install 'bedside[serve]' (or 'textual-serve>=1.1')", file=sys.stderr)
        return 2
    server = server_class(app_command(speed), host=args.host, port=args.port, title=TITLE, public_url=args.public_url)
    try:
        server.serve()
    except OSError as exc:  # port in use, address not available
        print(f"bedside serve: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m bedside.tui.serve --demo ...``: the same as ``bedside serve``."""
    parser = argparse.ArgumentParser(prog="bedside")
    add_serve_command(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["serve", *(sys.argv[1:] if argv is None else argv)])
    return run_serve(args)


if __name__ == "__main__":
    sys.exit(main())
