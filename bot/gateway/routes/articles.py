"""The console's article editor and staff accounts: pages and JSON API.

Same sign-in and CSRF rules as the rest of the staff API (bot/gateway/routes/staff.py); the
roles are checked on the server by the ``require`` dependency of every route:

- staff: ``GET /api/staff/articles``, ``GET /api/staff/articles/{id}``, ``…/{id}/versions``;
- editor: ``PUT /api/staff/articles/{id}`` (creates the article when the id is new),
  ``POST /api/staff/articles/{id}/restore/{version}``, ``POST /api/staff/articles/{id}/questions``,
  ``POST /api/staff/articles/preview`` (the answer as the citizen will see it);
- admin: ``GET /api/staff/accounts``, ``PUT /api/staff/accounts/{username}/role``.

A save that breaks a rule of the knowledge base answers 422 with ``detail`` (Danish) and
``errors`` (per field).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from bot.core.config import Settings
from bot.db.models import ROLES, local_now
from bot.gateway.routes.staff import _NO_STORE, _body, _identity, _ip, _json, _page, require
from bot.services import staff_auth
from bot.services.answers import render_article
from bot.services.article_rules import article_problems
from bot.services.articles import (
    ArticleInvalid,
    ArticleNotFound,
    ArticleService,
    Editor,
    article_from_request,
)
from bot.services.library import load_library
from bot.services.missed import MissedService, Who
from bot.services.staff_auth import StaffIdentity

# The console's routes stay out of /openapi.json, like the other staff routes.
router = APIRouter(include_in_schema=False)


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _articles(request: Request) -> ArticleService:
    return ArticleService.from_settings(_settings(request))


def _editor(identity: StaffIdentity, request: Request) -> Editor:
    return Editor(identity.staff_id, identity.username, _ip(request))


async def _call(function: Callable[..., Any], *args: Any) -> Any:
    """Run a service call in the thread pool; ArticleInvalid goes to ``invalid_handler``."""
    try:
        return await run_in_threadpool(function, *args)
    except ArticleNotFound as exc:
        raise HTTPException(404, exc.message) from exc


async def invalid_handler(request: Request, exc: Exception) -> JSONResponse:
    """A refused save: 422 (or 409) with the Danish reasons, overall and per field."""
    assert isinstance(exc, ArticleInvalid)
    return _json({"detail": exc.message, "errors": exc.errors}, status_code=exc.status_code)


# --- pages --------------------------------------------------------------------------------


async def _console_page(request: Request, name: str) -> Response:
    if await _identity(request) is None:
        return RedirectResponse("/staff/login", status_code=303, headers=_NO_STORE)
    return _page(name)


@router.get("/staff/articles", include_in_schema=False)
async def articles_page(request: Request) -> Response:
    return await _console_page(request, "articles.html")



# --- articles -----------------------------------------------------------------------------


@router.get("/api/staff/articles")
async def list_articles(
    request: Request, _: StaffIdentity = Depends(require("staff"))
) -> JSONResponse:
    return _json(await _call(_articles(request).list))


@router.post("/api/staff/articles/preview")
async def preview(
    request: Request, _: StaffIdentity = Depends(require("editor", write=True))
) -> JSONResponse:
    """The answer as the citizen will see it, and what a save would refuse (not saved)."""
    body = await _body(request)
    article_id = str(body.get("id") or "ny-artikel")
    service = _articles(request)

    def work() -> dict[str, Any]:
        articles = service.articles()
        article = article_from_request(article_id, body, articles.get(article_id))
        today = local_now().date()
        problems = article_problems(article, set(articles) | {article_id}, today)
        library = load_library(_settings(request).library_config)
        answer = render_article(article, "", library=library, articles=articles)
        return {"messages": answer.messages, "errors": problems}

    return _json(await _call(work))


@router.get("/api/staff/articles/{article_id}")
async def get_article(
    request: Request, article_id: str, _: StaffIdentity = Depends(require("staff"))
) -> JSONResponse:
    return _json(await _call(_articles(request).get, article_id))


@router.put("/api/staff/articles/{article_id}")
async def put_article(
    request: Request,
    article_id: str,
    identity: StaffIdentity = Depends(require("editor", write=True)),
) -> JSONResponse:
    body = await _body(request)
    article, created = await _call(
        _articles(request).save, article_id, body, _editor(identity, request)
    )
    return _json(article, status_code=201 if created else 200)


@router.get("/api/staff/articles/{article_id}/versions")
async def article_versions(
    request: Request, article_id: str, _: StaffIdentity = Depends(require("staff"))
) -> JSONResponse:
    return _json({"versions": await _call(_articles(request).versions, article_id)})


@router.post("/api/staff/articles/{article_id}/restore/{version}")
async def restore(
    request: Request,
    article_id: str,
    version: int,
    identity: StaffIdentity = Depends(require("editor", write=True)),
) -> JSONResponse:
    return _json(
        await _call(_articles(request).restore, article_id, version, _editor(identity, request))
    )


@router.post("/api/staff/articles/{article_id}/questions")
async def add_question(
    request: Request,
    article_id: str,
    identity: StaffIdentity = Depends(require("editor", write=True)),
) -> JSONResponse:
    """Add an example question; with ``missed_key`` the "Spørgsmål uden godt svar" group it
    came from is marked as handled."""
    body = await _body(request)
    editor = _editor(identity, request)
    article = await _call(_articles(request).add_question, article_id, body.get("question"), editor)
    key = body.get("missed_key")
    if isinstance(key, str) and key:
        service = MissedService(_settings(request).database_url)
        who = Who(identity.staff_id, identity.username)
        await run_in_threadpool(service.act, key, "added_example", who, article_id)
    return _json(article)


# --- staff accounts (admin) ---------------------------------------------------------------


def _account_json(account: staff_auth.StaffAccount) -> dict[str, Any]:
    return {
        "username": account.username,
        "name": account.name,
        "role": account.role,
        "role_label": staff_auth.ROLE_LABELS.get(account.role, account.role),
        "active": account.active,
        "last_login_at": account.last_login_at.isoformat() + "Z" if account.last_login_at else None,
    }


@router.get("/api/staff/accounts")
async def accounts(
    request: Request, _: StaffIdentity = Depends(require("admin"))
) -> JSONResponse:
    listed = await run_in_threadpool(staff_auth.list_staff, _settings(request).database_url)
    return _json({"accounts": [_account_json(a) for a in listed]})


@router.put("/api/staff/accounts/{username}/role")
async def account_role(
    request: Request,
    username: str,
    identity: StaffIdentity = Depends(require("admin", write=True)),
) -> JSONResponse:
    role = (await _body(request)).get("role")
    if role not in ROLES:
        raise HTTPException(422, "Rollen skal være medarbejder, redaktør eller administrator.")
    try:
        account = await run_in_threadpool(
            staff_auth.set_role, _settings(request).database_url, username, role,
            identity.username,
        )
    except staff_auth.AccountError as exc:
        raise HTTPException(404, "Kontoen findes ikke.") from exc
    return _json(_account_json(account))
