"""The console's "Indsigt" page and its API: figures, CSV per table, SVG charts, and the
"Spørgsmål uden godt svar" with what editors do about them.

- ``GET /api/staff/insights?days=N&channel=web|kiosk&branch=<id>`` (staff): the figures
  (bot/services/insight.py) with ``missed`` (bot/services/missed.py);
- ``GET /api/staff/insights/{table}.csv`` (staff): one table of them as CSV;
- ``GET /api/staff/insights/charts/{chart}.svg`` (staff): ``per_day`` or ``heat_map``;
- ``GET /api/staff/missed`` (staff): the missed-question groups;
- ``POST /api/staff/missed/{key}/dismiss`` and ``…/handled`` (editor, CSRF).
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from bot.db.models import local_now
from bot.gateway.routes.articles import _console_page
from bot.gateway.routes.staff import _body, _json, require
from bot.services.charts import bar_chart, heat_map
from bot.services.insight import CHANNELS, MAX_DAYS, OUTCOME_LABELS, WEEKDAYS_DA, InsightService
from bot.services.insight import Period as InsightPeriod
from bot.services.library import load_library
from bot.services.missed import REASON_LABELS, MissedService, Who
from bot.services.staff_auth import StaffIdentity

# The console's routes stay out of /openapi.json, like the other staff routes.
router = APIRouter(include_in_schema=False)


def _period(
    request: Request, days: int = 30, channel: str = "", branch: str = ""
) -> InsightPeriod:
    """The period, channel and branch of the query string (a FastAPI dependency)."""
    if not 1 <= days <= MAX_DAYS:
        raise HTTPException(422, f"Vælg mellem 1 og {MAX_DAYS} dage.")
    if channel and channel not in CHANNELS:
        raise HTTPException(422, "Kanalen skal være web eller kiosk.")
    library = load_library(request.app.state.settings.library_config)
    if branch and library.branch(branch) is None:
        raise HTTPException(422, "Filialen findes ikke.")
    return InsightPeriod.last_days(days, channel=channel or None, branch=branch or None)


def _figures(request: Request, period: InsightPeriod) -> dict[str, Any]:
    settings = request.app.state.settings
    library = load_library(settings.library_config)
    missed = MissedService(settings.database_url).groups(period)
    insight = InsightService(settings.database_url, library, settings.handoff_timeout_seconds)
    figures = insight.figures(period, missed)
    figures["branches"] = [{"id": b.id, "name": b.name} for b in library.branches]
    figures["summary"] = summary(figures)
    return figures


def _percent(share: float) -> str:
    return f"{round(share * 100)} %"


def summary(figures: dict[str, Any]) -> list[str]:
    """The page's summary box: the period's main figures in plain Danish sentences."""
    days = figures["period"]["days"]
    outcomes = figures["outcomes"]
    lines = [
        f"De seneste {days} dage var der {figures['conversations']} samtaler med "
        f"{figures['messages']} beskeder. {_percent(figures['outside_staffed_hours'])} af "
        "samtalerne kom, mens der ikke var personale på arbejde.",
    ]
    if sum(outcomes.values()):
        lines.append(
            f"Assistenten klarede {_percent(figures['containment'])} af spørgsmålene selv "
            f"({outcomes['answered']} besvaret direkte, {outcomes['clarified']} efter et "
            f"»Mener du …?«); {outcomes['not_understood']} blev ikke forstået, og "
            f"{outcomes['handoff']} gik videre til en medarbejder."
        )
    handoffs = figures["handoffs"]
    if handoffs["taken"]:
        lines.append(
            f"Medarbejderne tog {handoffs['taken']} henvendelser; halvdelen ventede højst "
            f"{_minutes(handoffs['median_wait_seconds'])}, ni ud af ti højst "
            f"{_minutes(handoffs['p90_wait_seconds'])}."
        )
    if figures["missed"]:
        top = figures["missed"][0]
        lines.append(
            f"{len(figures['missed'])} slags spørgsmål fik ikke et godt svar; oftest "
            f"»{top['text']}« ({top['count']} gange)."
        )
    return lines


def _minutes(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    return f"{seconds / 60:.1f} min".replace(".", ",")


# --- page and JSON ----------------------------------------------------------------------------


@router.get("/staff/insight", include_in_schema=False)
async def insight_page(request: Request) -> Response:
    return await _console_page(request, "insight.html")


@router.get("/api/staff/insights")
async def insights(
    request: Request,
    _: StaffIdentity = Depends(require("staff")),  # signed in first, then the query
    period: InsightPeriod = Depends(_period),
) -> Response:
    return _json(await run_in_threadpool(_figures, request, period))


# --- CSV and SVG ------------------------------------------------------------------------------


def tables(figures: dict[str, Any]) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """Every table of the page as (header, rows), for the CSV export."""
    labels = figures["topic_labels"]
    return {
        "per_day": (["dato", "samtaler", "beskeder"], [
            [d["date"], d["conversations"], d["messages"]] for d in figures["per_day"]
        ]),
        "heat_map": (["ugedag", *[f"kl. {h}" for h in range(24)]], [
            [WEEKDAYS_DA[n], *row] for n, row in enumerate(figures["heat_map"])
        ]),
        "outcomes": (["udfald", "antal"], [
            [OUTCOME_LABELS[k], v] for k, v in figures["outcomes"].items()
        ]),
        "topics": (["emne", "samtaler"], [
            [labels.get(t, t), n] for t, n in figures["topics"].items()
        ]),
        "articles": (["artikel", "vist", "tommel op", "tommel ned"], [
            [a, c["shown"], c["thumbs_up"], c["thumbs_down"]]
            for a, c in figures["articles"].items()
        ]),
        "handoffs": (["nøgletal", "værdi"], [[k, v] for k, v in figures["handoffs"].items()]),
        "bookings": (
            ["filial", "bookinger", "aflyst", "kursushold", "pladser", "optaget", "fyldt"],
            [[b["branch_name"], b["booked"], b["cancelled"], b["sessions"], b["seats"],
              b["seats_taken"], b["fill_rate"]] for b in figures["bookings"]],
        ),
        "missed": (["spørgsmål", "antal", "senest", "hvorfor"], [
            [m["text"], m["count"], m["last_seen"],
             ", ".join(REASON_LABELS[r] for r in m["reasons"])]
            for m in figures["missed"]
        ]),
    }


@router.get("/api/staff/insights/{table}.csv")
async def insight_csv(
    request: Request,
    table: str,
    _: StaffIdentity = Depends(require("staff")),  # signed in first, then the query
    period: InsightPeriod = Depends(_period),
) -> Response:
    figures = await run_in_threadpool(_figures, request, period)
    found = tables(figures).get(table)
    if found is None:
        raise HTTPException(404, "Tabellen findes ikke.")
    header, rows = found
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")  # Danish Excel reads ';'
    writer.writerow(header)
    writer.writerows(rows)
    name = f"indsigt-{table}-{local_now().date():%Y-%m-%d}.csv"
    return Response(
        "\ufeff" + out.getvalue(),  # BOM: Excel opens UTF-8 with æøå right
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"',
                 "Cache-Control": "no-store"},
    )


@router.get("/api/staff/insights/charts/{chart}.svg")
async def insight_chart(
    request: Request,
    chart: str,
    _: StaffIdentity = Depends(require("staff")),  # signed in first, then the query
    period: InsightPeriod = Depends(_period),
) -> Response:
    figures = await run_in_threadpool(_figures, request, period)
    if chart == "per_day":
        labels = [date.fromisoformat(d["date"]).strftime("%d/%m") for d in figures["per_day"]]
        svg = bar_chart(
            labels, [d["conversations"] for d in figures["per_day"]], "Samtaler pr. dag"
        )
    elif chart == "heat_map":
        svg = heat_map(WEEKDAYS_DA, figures["heat_map"], "Samtaler pr. time og ugedag")
    else:
        raise HTTPException(404, "Diagrammet findes ikke.")
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


# --- missed questions -------------------------------------------------------------------------


@router.get("/api/staff/missed")
async def missed(
    request: Request,
    _: StaffIdentity = Depends(require("staff")),  # signed in first, then the query
    period: InsightPeriod = Depends(_period),
) -> Response:
    service = MissedService(request.app.state.settings.database_url)
    return _json({"groups": await run_in_threadpool(service.groups, period)})


async def _act(request: Request, key: str, identity: StaffIdentity, action: str,
               article_id: str | None = None) -> Response:
    service = MissedService(request.app.state.settings.database_url)
    who = Who(identity.staff_id, identity.username)
    await run_in_threadpool(service.act, key, action, who, article_id)
    return _json({"key": key, "action": action})


@router.post("/api/staff/missed/{key}/dismiss")
async def dismiss(
    request: Request, key: str, identity: StaffIdentity = Depends(require("editor", write=True))
) -> Response:
    return await _act(request, key, identity, "dismissed")


@router.post("/api/staff/missed/{key}/handled")
async def handled(
    request: Request, key: str, identity: StaffIdentity = Depends(require("editor", write=True))
) -> Response:
    """After "add as example" or "new article": ``{"action": ..., "article_id": ...}``."""
    body = await _body(request)
    action = body.get("action")
    if action not in ("added_example", "new_article"):
        raise HTTPException(422, "Handlingen skal være added_example eller new_article.")
    article_id = body.get("article_id")
    return await _act(
        request, key, identity, action, article_id if isinstance(article_id, str) else None
    )
