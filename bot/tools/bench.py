"""Benchmark: chat turns through the gateway, one conversation and many at once.

Starts its own stack on free ports with throw-away databases, prints latencies, throughput
and memory, and stops everything. Figures, not pass/fail: see DESIGN.md, "Speed".
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import socket
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from bot.core.config import Settings, load_settings
from bot.tools.runner import Stack, prepare_database

QUESTIONS = (
    "Hvordan fornyer jeg mit kørekort?",
    "Jeg har mistet min telefon med MitID",
    "hvornår har biblioteket åbent",
    "hvordan melder jeg flytning",
    "tak for hjælpen",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _describe(label: str, seconds: list[float], wall: float) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[int(len(ms) * 0.95) - 1]
    return (
        f"{label:<28} n={len(ms):<4} p50={statistics.median(ms):6.0f} ms  "
        f"p95={p95:6.0f} ms  throughput={len(ms) / wall:5.1f} msg/s"
    )


async def _conversation(client: httpx.AsyncClient, url: str, turns: int) -> list[float]:
    session = uuid.uuid4().hex
    timings = []
    for turn in range(turns):
        started = time.perf_counter()
        text = QUESTIONS[turn % len(QUESTIONS)]
        response = await client.post(f"{url}/api/chat", json={"session_id": session, "text": text})
        response.raise_for_status()
        timings.append(time.perf_counter() - started)
    return timings


async def _run(url: str, rasa_url: str, token: str, concurrency: int, turns: int) -> str:
    async with httpx.AsyncClient(timeout=120) as client:
        await _conversation(client, url, 2)  # warm-up
        started = time.perf_counter()
        results = await asyncio.gather(
            *(_conversation(client, url, turns) for _ in range(concurrency))
        )
        wall = time.perf_counter() - started
        label = f"chat, {concurrency} concurrent"
        lines = [_describe(label, [t for r in results for t in r], wall)]
        if concurrency == 1:
            parse = []
            for text in QUESTIONS * 4:
                t0 = time.perf_counter()
                await client.post(
                    f"{rasa_url}/model/parse", params={"token": token}, json={"text": text}
                )
                parse.append(time.perf_counter() - t0)
            lines.append(_describe("NLU only (/model/parse)", parse, sum(parse)))
        return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=10, help="turns per conversation")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 5, 20])
    parser.add_argument(
        "--instances", type=int, choices=(1, 2), default=1,
        help="2: two of every process behind HAProxy (bot/tools/cluster.py); shares "
        "BORGER_REDIS_URL and the databases if set, else SQLite without Redis",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="borger-bench-") as var_dir:
        # The runner hands these to the three processes it starts.
        settings = load_settings(
            var_dir=var_dir,
            database_url=f"sqlite:///{var_dir}/app.db",
            gateway_port=_free_port(),
            rasa_port=_free_port(),
            actions_port=_free_port(),
            rasa_token=secrets.token_hex(16),
            # The benchmark is a flood from one client by design: limits off for its stack.
            rate_limit_session=0,
            rate_limit_address=0,
            max_sockets_per_address=0,
        )
        prepare_database(settings)
        if args.instances == 2:
            return _bench_cluster(settings, Path(var_dir), args)
        stack = Stack(settings, log_dir=Path(var_dir) / "logs")
        try:
            stack.start()
            print(f"stack healthy after {stack.wait_healthy(300):.1f} s")
            url = f"http://{settings.host}:{settings.gateway_port}"
            for concurrency in args.concurrency:
                print(
                    asyncio.run(
                        _run(url, settings.rasa_url, settings.rasa_token, concurrency, args.turns)
                    ),
                    flush=True,
                )
            memory = ", ".join(
                f"{name} {_rss_mb(p.pid):.0f} MB" for name, p in stack.processes.items()
            )
            print(f"resident memory: {memory}")
        finally:
            stack.stop()
    return 0


def _bench_cluster(settings: Settings, work_dir: Path, args: argparse.Namespace) -> int:
    """The same load through HAProxy onto two instances of every process."""
    from bot.tools.cluster import Cluster

    with Cluster(settings, work_dir) as cluster:
        for concurrency in args.concurrency:
            print(
                asyncio.run(
                    _run(cluster.url, cluster.rasa_url, settings.rasa_token, concurrency,
                         args.turns)
                ),
                flush=True,
            )
        memory = ", ".join(
            f"{name}{index} {_rss_mb(p.pid):.0f} MB"
            for index, node in enumerate(cluster.nodes, start=1)
            for name, p in node.processes.items()
        )
        print(f"resident memory: {memory}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
