"""Roles are enforced on the server for every staff route: each route of the app under /staff and
/api/staff is listed here with the role it needs, and is called without a session, and with
each role (a route missing from the list fails the test, so none can slip through)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.routing import BaseRoute

from tests.console_support import Console, console_app, sign_in

PUBLIC = "public"
# (method, path) -> the role it needs (staff < editor < admin), or PUBLIC.
ROUTE_ROLES: dict[tuple[str, str], str] = {
    ("GET", "/staff/login"): PUBLIC,
    ("GET", "/api/staff/csrf"): PUBLIC,
    ("POST", "/api/staff/login"): PUBLIC,
    ("GET", "/staff"): "staff",
    ("GET", "/staff/insight"): "staff",
    ("GET", "/staff/articles"): "staff",  # read-only for staff: saving is the editor's
    ("GET", "/api/staff/me"): "staff",
    ("GET", "/api/staff/tickets"): "staff",
    ("GET", "/api/staff/tickets/{ticket_id}"): "staff",
    ("GET", "/api/staff/tickets/{ticket_id}/summary"): "staff",
    ("POST", "/api/staff/tickets/{ticket_id}/take"): "staff",
    ("POST", "/api/staff/tickets/{ticket_id}/reply"): "staff",
    ("POST", "/api/staff/tickets/{ticket_id}/return"): "staff",
    ("POST", "/api/staff/tickets/{ticket_id}/close"): "staff",
    ("POST", "/api/staff/tickets/{ticket_id}/notes"): "staff",
    ("GET", "/api/staff/insights"): "staff",
    ("GET", "/api/staff/insights/{table}.csv"): "staff",
    ("GET", "/api/staff/insights/charts/{chart}.svg"): "staff",
    ("GET", "/api/staff/missed"): "staff",
    ("POST", "/api/staff/missed/{key}/dismiss"): "editor",
    ("POST", "/api/staff/missed/{key}/handled"): "editor",
    ("GET", "/api/staff/articles"): "staff",
    ("GET", "/api/staff/articles/{article_id}"): "staff",
    ("GET", "/api/staff/articles/{article_id}/versions"): "staff",
    ("PUT", "/api/staff/articles/{article_id}"): "editor",
    ("POST", "/api/staff/articles/preview"): "editor",
    ("POST", "/api/staff/articles/{article_id}/restore/{version}"): "editor",
    ("POST", "/api/staff/articles/{article_id}/questions"): "editor",
    ("GET", "/api/staff/accounts"): "admin",
    ("PUT", "/api/staff/accounts/{username}/role"): "admin",
    ("POST", "/api/staff/logout"): "staff",  # last: it ends the session
}
LEVEL = {"staff": 0, "editor": 1, "admin": 2}
PARAMS = {
    "ticket_id": "999999", "article_id": "koerekort-mistet", "version": "1",
    "username": "staff", "table": "topics", "chart": "per_day", "key": "abc",
}


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: PARAMS[m.group(1)], path)


def call(console: Console, method: str, path: str) -> int:
    if method == "GET":
        return console.client.get(concrete(path), follow_redirects=False).status_code
    return console.send(method, concrete(path), {}).status_code


def all_routes(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:
    """Every route, also those of included routers: FastAPI 0.165 keeps an included router as
    one entry (with its ``original_router``) instead of copying its routes into the app."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from all_routes(included.routes)
        else:
            yield route


def test_every_staff_route_checks_the_role_it_needs(sqlite_url: str, tmp_path: Path) -> None:
    with console_app(sqlite_url, tmp_path) as app:
        routes = set()
        for route in all_routes(app.app.routes):
            if not route.path.startswith(("/staff", "/api/staff")):
                continue
            if isinstance(route, APIWebSocketRoute):
                continue  # signed-in check on the handshake: tests/test_handoff_live.py
            assert isinstance(route, APIRoute)
            routes |= {(method, route.path) for method in route.methods}
        assert routes == set(ROUTE_ROLES), "list every staff route with its role"

        anonymous = Console(type(app)(app.app, base_url="https://testserver"))
        for (method, path), role in ROUTE_ROLES.items():
            status = call(anonymous, method, path)
            if role == PUBLIC:  # (the sign-in itself still wants its own CSRF token: 403)
                assert status != 401, (method, path, status)
            elif path.startswith("/staff"):
                assert status == 303, (method, path, status)  # to the sign-in page
            else:
                assert status == 401, (method, path, status)

        for held in ("staff", "editor", "admin"):
            console = sign_in(app, held)
            for (method, path), role in ROUTE_ROLES.items():
                if role == PUBLIC:
                    continue
                status = call(console, method, path)
                if LEVEL[held] < LEVEL[role]:
                    assert status == 403, (held, method, path, status)
                else:
                    assert status not in (401, 403), (held, method, path, status)
