"""One error handler for the whole gateway: every refusal is ``{"detail": "<Danish>"}`` with
its status code, whichever layer refused (a route, FastAPI's validation, a service).

Routes raise :class:`GatewayError` (or FastAPI's HTTPException with a Danish ``detail``); the
services' own errors (HandoffError, AuthError) carry their Danish message and status and are
answered the same way.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from bot.services.handoff import HandoffError
from bot.services.staff_auth import AuthError

INVALID_REQUEST = "Forespørgslen er ikke gyldig."
_NO_STORE = {"Cache-Control": "no-store"}


class GatewayError(Exception):
    """A request the gateway refuses; ``message`` is Danish and safe to show."""

    def __init__(self, message: str, status_code: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


async def danish_error(request: Request, exc: Exception) -> JSONResponse:
    headers = dict(_NO_STORE) if request.url.path.startswith("/api/staff") else {}
    if isinstance(exc, GatewayError | HandoffError | AuthError):
        message, status = exc.message, exc.status_code
        if isinstance(exc, AuthError) and exc.retry_after:
            headers["Retry-After"] = str(exc.retry_after)
    elif isinstance(exc, HTTPException):
        message, status = str(exc.detail), exc.status_code
        headers.update(exc.headers or {})
    else:  # RequestValidationError: a path or query parameter of the wrong type
        message, status = INVALID_REQUEST, 422
    return JSONResponse({"detail": message}, status_code=status, headers=headers or None)


def install_error_handler(app: FastAPI) -> None:
    for kind in (GatewayError, HandoffError, AuthError, HTTPException, RequestValidationError):
        app.add_exception_handler(kind, danish_error)
