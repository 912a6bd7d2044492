"""Benchmark: chat turns through the gateway against the same model asked directly on Rasa.

Starts its own stack on free ports with throw-away databases, runs the same kind of load at
each concurrency twice — through the gateway's ``/api/chat`` and straight to Rasa's REST
webhook (plain Rasa: no gateway, no storage of its own) — and prints a table of latencies,
throughput and memory. It writes the table (report.md), the raw figures (bench.json) and a
plot of latency against concurrency (latency.png, drawn with the matplotlib that Rasa's
environment ships) to var/bench/. Figures, not pass/fail: see DESIGN.md, "Speed".

Every turn asks a question the stack has not seen in this run (article questions, in
order), with a "tak" between, so the answer engine's per-text cache cannot flatter a figure.
``--repeated`` runs the earlier benchmark's load instead (five texts over and over), to
compare with figures measured that way.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import os
import secrets
import statistics
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from bot.core.config import PROJECT_ROOT, Settings, load_settings
from bot.services.knowledge import load_articles
from bot.tools import profile
from bot.tools.cluster import Cluster, free_port
from bot.tools.runner import Stack, prepare_database

CONCURRENCY = (1, 5, 10, 20, 40)
MIN_TURNS = 60  # per concurrency level and target, at least
THANKS_EVERY = 5  # every fifth turn is small talk, as in real chats
PROFILED = 8  # conversations under the profiler
PLOT_SCRIPT = PROJECT_ROOT / "scripts" / "plot_bench.py"


def _memory_mb(pid: int) -> tuple[float, float]:
    """Resident and peak resident memory of a process, MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields.get("VmRSS", 0.0), fields.get("VmHWM", 0.0)


# The load of the earlier benchmark (and of the figures in the issue it was measured for): the
# same five texts over and over, which the answer engine's per-text cache mostly answers.
REPEATED = (
    "Hvordan fornyer jeg mit kørekort?",
    "Jeg har mistet min telefon med MitID",
    "hvornår har biblioteket åbent",
    "hvordan melder jeg flytning",
    "tak for hjælpen",
)


def questions(repeated: bool = False) -> Iterator[str]:
    """Article questions in a fixed order, then the same again (only if a run outlasts them);
    with ``repeated``, the earlier benchmark's five texts."""
    if repeated:
        return itertools.cycle(REPEATED)
    pool = [q for article in load_articles().values() for q in article.questions]
    return itertools.cycle(pool)


@dataclass
class Figures:
    target: str  # "gateway" or "rasa"
    concurrency: int
    turns: int
    p50_ms: float
    p95_ms: float
    throughput: float  # messages per second over the whole run


def figures(target: str, concurrency: int, seconds: list[float], wall: float) -> Figures:
    ms = sorted(s * 1000 for s in seconds)
    return Figures(
        target=target,
        concurrency=concurrency,
        turns=len(ms),
        p50_ms=statistics.median(ms),
        p95_ms=ms[max(0, int(len(ms) * 0.95) - 1)],
        throughput=len(ms) / wall,
    )


Ask = Callable[[httpx.AsyncClient, str, str], Awaitable[None]]


def gateway_asker(url: str) -> Ask:
    async def ask(client: httpx.AsyncClient, session: str, text: str) -> None:
        response = await client.post(
            f"{url}/api/chat", json={"session_id": session, "text": text}
        )
        response.raise_for_status()

    return ask


def rasa_asker(rasa_url: str) -> Ask:
    async def ask(client: httpx.AsyncClient, session: str, text: str) -> None:
        response = await client.post(
            f"{rasa_url}/webhooks/rest/webhook", json={"sender": session, "message": text}
        )
        response.raise_for_status()

    return ask


async def _conversation(
    client: httpx.AsyncClient, ask: Ask, texts: Iterator[str], turns: int
) -> list[float]:
    session = uuid.uuid4().hex  # 32 characters: a valid citizen session id
    timings = []
    for turn in range(turns):
        text = "tak for hjælpen" if turn % THANKS_EVERY == THANKS_EVERY - 1 else next(texts)
        started = time.perf_counter()
        await ask(client, session, text)
        timings.append(time.perf_counter() - started)
    return timings


async def load(
    target: str, ask: Ask, texts: Iterator[str], concurrency: int, turns: int
) -> Figures:
    limits = httpx.Limits(max_connections=concurrency + 5)
    # Each of the `concurrency` citizens holds conversations one after another until the
    # level has at least MIN_TURNS turns: one conversation alone gave a p50 of ten turns.
    rounds = max(1, math.ceil(MIN_TURNS / (concurrency * turns)))

    async def citizen(client: httpx.AsyncClient) -> list[float]:
        timings: list[float] = []
        for _ in range(rounds):
            timings += await _conversation(client, ask, texts, turns)
        return timings

    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        started = time.perf_counter()
        results = await asyncio.gather(*(citizen(client) for _ in range(concurrency)))
        wall = time.perf_counter() - started
    return figures(target, concurrency, [t for r in results for t in r], wall)


async def nlu_only(rasa_url: str, token: str, texts: Iterator[str], count: int = 40) -> Figures:
    timings = []
    async with httpx.AsyncClient(timeout=60) as client:
        for _ in range(count):
            started = time.perf_counter()
            response = await client.post(
                f"{rasa_url}/model/parse", params={"token": token}, json={"text": next(texts)}
            )
            response.raise_for_status()
            timings.append(time.perf_counter() - started)
    return figures("nlu", 1, timings, sum(timings))


def table(rows: list[Figures]) -> str:
    by = {(r.target, r.concurrency): r for r in rows}
    lines = [
        "| concurrent | gateway p50 | gateway p95 | gateway msg/s "
        "| Rasa p50 | Rasa p95 | Rasa msg/s | overhead p50 |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for c in sorted({r.concurrency for r in rows if r.target == "gateway"}):
        g, r = by[("gateway", c)], by.get(("rasa", c))
        rasa = (
            f"{r.p50_ms:.0f} ms | {r.p95_ms:.0f} ms | {r.throughput:.1f} | "
            f"{g.p50_ms - r.p50_ms:+.0f} ms"
            if r
            else "– | – | – | –"
        )
        lines.append(
            f"| {c} | {g.p50_ms:.0f} ms | {g.p95_ms:.0f} ms | {g.throughput:.1f} | {rasa} |"
        )
    return "\n".join(lines)


def decided_by(tracker_database_url: str) -> dict[str, int]:
    """How many of the run's action predictions each policy made (from Rasa's tracker store):
    the measure of what TED adds over rules and memoization."""
    engine = create_engine(tracker_database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT data FROM events WHERE type_name = 'action'")
            ).scalars()
            counts = Counter(
                (json.loads(data).get("policy") or "none").split("_")[-1] for data in rows
            )
    finally:
        engine.dispose()
    return dict(counts.most_common())


def plot(report: dict, path: Path, python: Path) -> bool:
    """Latency against concurrency as a PNG; False (and a note) if matplotlib is missing."""
    data = path.with_suffix(".json")
    data.write_text(json.dumps(report), encoding="utf-8")
    done = subprocess.run(
        [str(python), str(PLOT_SCRIPT), str(data), str(path)],
        capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        print(f"no plot: {done.stderr.strip()[-300:]}")
    return done.returncode == 0


def bench_settings(var_dir: str) -> Settings:
    return load_settings(
        var_dir=var_dir,
        database_url=f"sqlite:///{var_dir}/app.db",
        gateway_port=free_port(),
        rasa_port=free_port(),
        actions_port=free_port(),
        rasa_token=secrets.token_hex(16),
        # The benchmark is a flood from one client by design: limits off for its stack.
        rate_limit_session=0,
        rate_limit_address=0,
        max_sockets_per_address=0,
    )


def run(
    url: str, rasa_url: str, token: str, concurrency: tuple[int, ...], turns: int,
    repeated: bool = False,
) -> dict:
    """The load at each concurrency through the gateway (``url``) and on Rasa alone."""
    texts = questions(repeated)
    gateway, rasa = gateway_asker(url), rasa_asker(rasa_url)
    # Loads the models, opens the connections and fills Python's caches of both paths.
    asyncio.run(load("gateway", gateway, texts, 2, 3))
    asyncio.run(load("rasa", rasa, texts, 2, 3))
    rows = [asyncio.run(nlu_only(rasa_url, token, texts))]
    for c in concurrency:
        for target, ask in (("gateway", gateway), ("rasa", rasa)):
            rows.append(asyncio.run(load(target, ask, texts, c, turns)))
            r = rows[-1]
            print(
                f"{target:<8} {c:>3} concurrent: p50 {r.p50_ms:5.0f} ms  p95 {r.p95_ms:5.0f} ms"
                f"  {r.throughput:5.1f} msg/s",
                flush=True,
            )
    return {"rows": [asdict(r) for r in rows]}


def profile_turns(stack: Stack, settings: Settings, out: Path, turns: int) -> str:
    """Conversations one after another through the gateway while py-spy samples all three
    processes (one conversation at a time, so every sample belongs to one turn)."""
    url = f"http://{settings.host}:{settings.gateway_port}"
    texts, ask = questions(), gateway_asker(url)
    asyncio.run(load("gateway", ask, texts, 1, 3))  # warm
    recordings = profile.start({n: p.pid for n, p in stack.processes.items()}, out)
    results = [asyncio.run(load("gateway", ask, texts, 1, turns)) for _ in range(PROFILED)]
    seconds = profile.finish(recordings)
    count = sum(r.turns for r in results)
    p50 = statistics.median(r.p50_ms for r in results)
    return (
        f"Profile of {count} turns in {PROFILED} conversations (p50 about {p50:.0f} ms), "
        f"py-spy at {profile.RATE} Hz; collapsed stacks in {out}/profile-*.txt\n"
        + profile.report(recordings, seconds, count)
    )


def wait_for_answer_engines(actions_urls: list[str], timeout: float = 300) -> None:
    """Healthy is not ready to answer: on a fresh machine each action server embeds every
    article first (about a minute), and a turn in that time waits on it."""
    deadline = time.monotonic() + timeout
    for url in actions_urls:
        while True:
            with contextlib.suppress(httpx.HTTPError, ValueError):
                if httpx.get(f"{url}/version", timeout=2).json().get("answer_engine") == "ready":
                    break
            if time.monotonic() > deadline:
                raise TimeoutError(f"the answer engine at {url} is not built after {timeout} s")
            time.sleep(0.5)


def bench_one(args: argparse.Namespace) -> tuple[dict, str]:
    """One stack, as `make run` starts it: the load, then memory and the policies' share."""
    with tempfile.TemporaryDirectory(prefix="borger-bench-") as var_dir:
        settings = bench_settings(var_dir)
        prepare_database(settings)
        stack = Stack(settings, log_dir=Path(var_dir) / "logs")
        try:
            stack.start()
            print(f"stack healthy after {stack.wait_healthy(300):.1f} s", flush=True)
            wait_for_answer_engines([settings.actions_url])
            if args.profile:
                return {}, profile_turns(stack, settings, args.out, args.turns)
            url = f"http://{settings.host}:{settings.gateway_port}"
            report = run(
                url, settings.rasa_url, settings.rasa_token, tuple(args.concurrency), args.turns,
                args.repeated,
            )
            report["memory_mb"] = {n: _memory_mb(p.pid) for n, p in stack.processes.items()}
        finally:
            stack.stop()
        report["decided_by"] = decided_by(settings.tracker_database_url)
    return report, render(report, args, "one instance of each process")


def bench_two(args: argparse.Namespace) -> tuple[dict, str]:
    """Two of every process behind HAProxy (bot/tools/cluster.py): the same load."""
    with tempfile.TemporaryDirectory(prefix="borger-bench-") as var_dir:
        settings = bench_settings(var_dir)
        prepare_database(settings)
        with Cluster(settings, Path(var_dir)) as cluster:
            wait_for_answer_engines(
                [f"http://{n.settings.host}:{n.settings.actions_port}" for n in cluster.nodes]
            )
            report = run(
                cluster.url, cluster.rasa_url, settings.rasa_token,
                tuple(args.concurrency), args.turns, args.repeated,
            )
            report["memory_mb"] = {
                f"{name}{index}": _memory_mb(p.pid)
                for index, node in enumerate(cluster.nodes, start=1)
                for name, p in node.processes.items()
            }
        report["decided_by"] = decided_by(settings.tracker_database_url)
    return report, render(report, args, "two of each process behind HAProxy")


def render(report: dict, args: argparse.Namespace, label: str) -> str:
    rows = [Figures(**r) for r in report["rows"]]
    nlu = next(r for r in rows if r.target == "nlu")
    memory = ", ".join(
        f"{name} {rss:.0f} MB (peak {peak:.0f})"
        for name, (rss, peak) in report["memory_mb"].items()
    )
    return "\n".join(
        [
            f"## {label} ({os.cpu_count()} cores, {args.turns} turns per conversation, "
            + ("the earlier benchmark's five texts repeated)" if args.repeated else
               "a new question every turn)"),
            "",
            table(rows),
            "",
            f"NLU only (/model/parse): p50 {nlu.p50_ms:.0f} ms, p95 {nlu.p95_ms:.0f} ms",
            f"Resident memory after the run: {memory}",
            "Action predictions by policy: "
            + ", ".join(f"{name} {n}" for name, n in report["decided_by"].items()),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=10, help="turns per conversation")
    parser.add_argument("--concurrency", type=int, nargs="+", default=list(CONCURRENCY))
    parser.add_argument(
        "--instances", type=int, nargs="+", choices=(1, 2), default=[1],
        help="1: one stack as `make run` starts it; 2: two of every process behind HAProxy "
        "(bot/tools/cluster.py); '1 2' runs both and prints both",
    )
    parser.add_argument(
        "--repeated", action="store_true",
        help="the earlier benchmark's load: five texts over and over (mostly cached answers)",
    )
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "var" / "bench")
    parser.add_argument(
        "--profile", action="store_true",
        help=f"instead of the load, profile {PROFILED} conversations with py-spy",
    )
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.profile:
        print(bench_one(args)[1])
        return 0
    reports, sections = {}, ["# make bench"]
    for instances in args.instances:
        report, text = (bench_one if instances == 1 else bench_two)(args)
        reports[instances] = report
        sections.append(text)
    text = "\n\n".join(sections)
    (args.out / "report.md").write_text(text + "\n", encoding="utf-8")
    first = reports[args.instances[0]]  # the plot shows the first setup asked for
    plotted = plot(first, args.out / "latency.png", load_settings().rasa_python)
    print("\n" + text)
    print(f"\nwritten: {args.out / 'report.md'}" + (", latency.png" if plotted else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
