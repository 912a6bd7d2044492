"""The gateway's front door: who the client is, where a request comes from, how big and how
deep it may be, and the security headers on every response.

- :func:`client_address`: the peer, or the client named in ``X-Forwarded-For`` when (and only
  when) the peer is one of BORGER_TRUSTED_PROXIES. uvicorn runs with ``--no-proxy-headers``
  (bot/tools/runner.py), so the peer address here is the real TCP peer.
- :func:`origin_allowed`: the Origin allow-list of the citizen API and WebSocket.
- :class:`FrontDoorMiddleware`: refuses bodies over the limit *while reading* them (a
  Content-Length over it at once, a chunked body as soon as it grows past it), hides the
  console's files under /static/staff/, and puts a CSP, ``X-Content-Type-Options`` and
  ``Referrer-Policy`` on every HTTP response.
- :func:`parse_json`: JSON with a depth limit, no lone surrogates and no NUL characters, so
  bad input gets a clear 400 instead of a 500 deep inside the database driver.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket

from bot.gateway.errors import GatewayError

MAX_BODY_BYTES = 64 * 1024
MAX_JSON_DEPTH = 20
# Sequence numbers and ids fit PostgreSQL's INTEGER.
MAX_INT = 2**31 - 1

TOO_LARGE = "Forespørgslen er for stor."
BAD_JSON = "Forespørgslen er ikke gyldig JSON."
TOO_DEEP = "Forespørgslen er for dybt indlejret."
BAD_TEXT = "Forespørgslen indeholder ugyldige tegn."


# --- session ids ------------------------------------------------------------------------------

# The session id is the citizen's bearer secret: the widget's are 128 bits from a CSPRNG
# (32 hex characters); anything shorter than 22 characters (~128 bits in base64) is refused.
SESSION_ID_PATTERN = re.compile(r"^[A-Za-z0-9_\-]{22,64}$")
BAD_SESSION_ID = "session_id skal være 22-64 tegn: bogstaver, tal, - og _."


def check_session_id(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise GatewayError("session_id mangler.", 422)
    if not SESSION_ID_PATTERN.match(value):
        raise GatewayError(BAD_SESSION_ID, 422)
    return value


async def deny(
    websocket: WebSocket, status_code: int, detail: str, retry_after: int | None = None
) -> None:
    """Refuse a WebSocket handshake with an HTTP answer (or a close code without one)."""
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    try:
        await websocket.send_denial_response(
            JSONResponse({"detail": detail}, status_code, headers=headers)
        )
    except RuntimeError:
        # A server without the denial-response extension can only refuse the handshake.
        await websocket.close(code=4000 + status_code)


# --- client address ---------------------------------------------------------------------------


def trusted_networks(proxies: Iterable[str]) -> tuple[Any, ...]:
    networks = []
    for item in proxies:
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as exc:  # Settings checked them at start; here only for direct callers
            raise ValueError(f"not an address or network: {item}") from exc
    return tuple(networks)


def _is_trusted(address: str, networks: tuple[Any, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(connection: HTTPConnection, networks: tuple[Any, ...]) -> str:
    """The client's address. ``X-Forwarded-For`` counts only behind a trusted proxy, and
    then the right-most address that is not itself a trusted proxy (the left part of the
    header is whatever the client wrote)."""
    peer = connection.client.host if connection.client else "unknown"
    if not networks or not _is_trusted(peer, networks):
        return peer
    forwarded = connection.headers.get("x-forwarded-for", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, networks):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # garbage from a proxy we trust: fall back to the proxy
    return peer


# --- origin ---------------------------------------------------------------------------------


def origin_allowed(connection: HTTPConnection, allowed: Iterable[str]) -> bool:
    """No Origin (a non-browser client, a same-origin GET), the gateway's own origin, or one
    on the allow-list ("*" allows any)."""
    origin = connection.headers.get("origin")
    if origin is None:
        return True
    allowed = list(allowed)
    if "*" in allowed:
        return True
    if origin.rstrip("/") in allowed:
        return True
    host = (connection.headers.get("host") or "").lower()
    return bool(host) and urlsplit(origin).netloc.lower() == host


# --- JSON -------------------------------------------------------------------------------------


def _check(value: Any, depth: int) -> Any:
    if depth > MAX_JSON_DEPTH:
        raise GatewayError(TOO_DEEP, 400)
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:  # a lone surrogate such as "\ud800"
            raise GatewayError(BAD_TEXT, 400) from exc
        # PostgreSQL cannot store NUL in text; it carries no meaning in a message anyway.
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_check(item, depth + 1) for item in value]
    if isinstance(value, dict):
        return {_check(k, depth + 1): _check(v, depth + 1) for k, v in value.items()}
    return value


def parse_json(raw: bytes) -> Any:
    try:
        text = raw.decode("utf-8") if raw else ""
    except UnicodeDecodeError as exc:
        raise GatewayError(BAD_JSON, 400) from exc
    # Cheap guard before the parser recurses: far more brackets than any real request.
    if text.count("[") + text.count("{") > 2000:
        raise GatewayError(TOO_DEEP, 400)
    try:
        value = json.loads(text)
    except RecursionError as exc:
        raise GatewayError(TOO_DEEP, 400) from exc
    except ValueError as exc:
        raise GatewayError(BAD_JSON, 400) from exc
    return _check(value, 0)


def parse_json_object(raw: bytes, what: str = "Forespørgslen skal være et JSON-objekt.") -> dict:
    value = parse_json(raw)
    if not isinstance(value, dict):
        raise GatewayError(what, 400)
    return value


def bounded_int(value: Any, message: str, minimum: int = 0) -> int:
    """An integer within what the database stores, else 422 with ``message``."""
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= MAX_INT:
        raise GatewayError(message, 422)
    return value


# --- headers and the body limit -------------------------------------------------------------

_BASE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; media-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'"
)
# JSON and scripts: nothing to render, nothing to frame.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
CONSOLE_CSP = f"{_BASE_CSP}; frame-ancestors 'none'"


def page_csp(frame_ancestors: Iterable[str]) -> str:
    sources = " ".join(["'self'", *frame_ancestors]) if frame_ancestors else "'self'"
    return f"{_BASE_CSP}; frame-ancestors {sources}"


class FrontDoorMiddleware:
    """Body limit while reading, no console pages under /static/staff/, security headers."""

    def __init__(
        self, app: ASGIApp, frame_ancestors: Iterable[str] = (), max_body: int = MAX_BODY_BYTES
    ) -> None:
        self.app = app
        self.max_body = max_body
        # Citizen pages (demo page, legal pages) may be framed by the library sites that
        # embed the widget; the kiosk and the console never.
        self.citizen_csp = page_csp([o for o in frame_ancestors if o != "*"])

    def _csp(self, path: str) -> tuple[str, bool]:
        """(CSP, deny framing) for a path."""
        if path.startswith(("/staff", "/static/staff/", "/kiosk", "/static/kiosk")):
            return CONSOLE_CSP, True
        if path.startswith("/api/") or path.endswith((".js", ".css")):
            return API_CSP, True
        return self.citizen_csp, False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith("/static/staff/") and path.endswith((".html", "/")):
            # The console's pages only under /staff, with their session check and headers.
            await _plain(send, 404, "Siden findes ikke.")
            return
        headers = Headers(scope=scope)
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            await _plain(send, 413, TOO_LARGE)
            return
        csp, deny_framing = self._csp(path)
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise _BodyTooLarge()
            return message

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                raw = list(message.get("headers", []))
                present = {name.lower() for name, _ in raw}
                extra = {
                    b"content-security-policy": csp.encode(),
                    b"x-content-type-options": b"nosniff",
                    b"referrer-policy": b"no-referrer",
                }
                if deny_framing:
                    extra[b"x-frame-options"] = b"DENY"
                raw += [(k, v) for k, v in extra.items() if k not in present]
                message = {**message, "headers": raw}
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except _BodyTooLarge:
            if not started:
                await _plain(send, 413, TOO_LARGE)


class _BodyTooLarge(Exception):
    pass


async def _plain(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"content-security-policy", API_CSP.encode()),
                (b"x-content-type-options", b"nosniff"),
                (b"referrer-policy", b"no-referrer"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
